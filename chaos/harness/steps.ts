/** Small waits the multi-validator scenarios share: tips of some nodes, progress of a subset. */
import type { NodeApi } from './api.ts';
import { sleep } from './load.ts';
import type { ScenarioReport } from './report.ts';

/** Tips of the given nodes (-1 for one that does not answer). */
export function tipsOf(apis: readonly NodeApi[], which: readonly number[]): Promise<number[]> {
  return Promise.all(which.map((i) => apis[i]!.tipHeight().catch(() => -1)));
}

/**
 * The highest tip any listed node answers, asked again (up to `attempts`
 * times) while none does: on a loaded machine one 3 s API timeout says
 * nothing about the chain.
 */
export async function highestTip(
  apis: readonly NodeApi[],
  which: readonly number[],
  attempts = 8,
): Promise<number> {
  for (let i = 0; ; i++) {
    const best = Math.max(...(await tipsOf(apis, which)));
    if (best >= 0 || i + 1 >= attempts) return best;
    await sleep(500);
  }
}

/**
 * Waits until every listed node is `blocks` past its tip of now: the part of
 * the network that should keep committing during a fault does. Checked as
 * `name`; returns the time it took, or null when the bound passed.
 */
export async function expectProgress(
  apis: readonly NodeApi[],
  which: readonly number[],
  opts: { blocks: number; boundMs: number; name: string },
  report: ScenarioReport,
): Promise<number | null> {
  const started = Date.now();
  const before = await tipsOf(apis, which);
  let now = before;
  while (Date.now() - started < opts.boundMs) {
    await sleep(250);
    now = await tipsOf(apis, which);
    if (now.every((t, k) => before[k]! >= 0 && t >= before[k]! + opts.blocks)) {
      const ms = Date.now() - started;
      report.check(
        opts.name,
        true,
        `nodes ${which.join(',')} went ${before.join('/')} -> ${now.join('/')} in ${(ms / 1000).toFixed(1)} s`,
      );
      return ms;
    }
  }
  report.check(
    opts.name,
    false,
    `nodes ${which.join(',')} went ${before.join('/')} -> ${now.join('/')}, wanted +${opts.blocks} within ${opts.boundMs / 1000} s`,
  );
  return null;
}

/** Every listed node stays within `slack` blocks of its tip of now for `ms`: no commits there. */
export async function expectStall(
  apis: readonly NodeApi[],
  which: readonly number[],
  opts: { ms: number; slack: number; name: string },
  report: ScenarioReport,
): Promise<void> {
  const before = await answeredTips(apis, which);
  await sleep(opts.ms);
  const after = await answeredTips(apis, which);
  report.check(
    opts.name,
    after.every((t, k) => t >= 0 && before[k]! >= 0 && t <= before[k]! + opts.slack),
    `nodes ${which.join(',')} went ${before.join('/')} -> ${after.join('/')} in ${opts.ms / 1000} s (slack ${opts.slack}: a block already decided may land)`,
  );
}

/** Tips of the given nodes, asked again (a few times) while some node does not answer. */
async function answeredTips(apis: readonly NodeApi[], which: readonly number[]): Promise<number[]> {
  let tips = await tipsOf(apis, which);
  for (let i = 0; i < 5 && tips.some((t) => t < 0); i++) {
    await sleep(500);
    tips = await tipsOf(apis, which);
  }
  return tips;
}

export function others(count: number, except: readonly number[]): number[] {
  return Array.from({ length: count }, (_, i) => i).filter((i) => !except.includes(i));
}
