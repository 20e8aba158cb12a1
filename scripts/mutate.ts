// `npm run mutate [file...]`: StrykerJS over the consensus-critical files, one
// file per Stryker run, one after another (the machine is shared).
// `npm run mutate -- --ci`: the bounded CI sample; fails below MIN_CI_SCORE.
// Scores per file are printed at the end; docs/testing.md records them.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ciSample, mutationTargets } from './mutation-targets.ts';

const MIN_CI_SCORE = 85;

const args = process.argv.slice(2);
const ci = args.includes('--ci');
const named = args.filter((a) => !a.startsWith('--'));
const targets = ci ? ciSample : named.length > 0 ? named : Object.keys(mutationTargets);

interface Report {
  files: Record<string, { mutants: Array<{ status: string }> }>;
}

function score(target: string): { killed: number; survived: number; noCov: number; pct: number } {
  const file = `reports/mutation/${target.split(':')[0]!.replaceAll('/', '_')}.json`;
  if (!existsSync(file)) throw new Error(`no report ${file}`);
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  let killed = 0;
  let survived = 0;
  let noCov = 0;
  for (const { mutants } of Object.values(report.files)) {
    for (const m of mutants) {
      if (m.status === 'Killed' || m.status === 'Timeout') killed++;
      else if (m.status === 'Survived') survived++;
      else if (m.status === 'NoCoverage') noCov++;
    }
  }
  const total = killed + survived + noCov;
  return { killed, survived, noCov, pct: total === 0 ? 100 : (100 * killed) / total };
}

const rows: string[] = [];
let failed = false;
for (const target of targets) {
  const run = spawnSync('stryker', ['run'], {
    stdio: 'inherit',
    env: { ...process.env, MUTATE_TARGET: target },
  });
  if (run.status !== 0) {
    rows.push(`${target}: stryker exited with ${run.status}`);
    failed = true;
    continue;
  }
  const s = score(target);
  rows.push(
    `${target}: ${s.pct.toFixed(1)}% killed (${s.killed} killed, ${s.survived} survived, ${s.noCov} not covered)`,
  );
  if (ci && s.pct < MIN_CI_SCORE) failed = true;
}
console.log(`\nmutation scores (${new Date().toISOString().slice(0, 10)}):\n${rows.join('\n')}`);
if (failed) process.exitCode = 1;
