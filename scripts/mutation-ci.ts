// What `npm run mutate -- --ci` mutates: the lines of consensus-critical files
// (scripts/mutation-targets.ts) that a change touches, bounded by a line budget
// so CI stays within a few minutes; when a change touches none, a window of
// one target that rotates with the commit, so every line is sampled over time.
// Pure functions here (tested in test/rules/mutation-ci.test.ts); git is
// called by scripts/mutate.ts.

export interface LineRange {
  readonly start: number;
  readonly end: number;
}

/** One Stryker run: a file and the line ranges to mutate in it (none = whole file). */
export interface MutationJob {
  readonly file: string;
  readonly ranges: readonly LineRange[];
}

/** Lines of a target mutated in CI at most, over all files; about 1-2 mutants a line. */
export const CI_LINE_BUDGET = 60;
/** Lines in one rotating-sample window. */
export const CI_WINDOW_LINES = 40;

/**
 * The added or changed lines of each file in `git diff --unified=0` output
 * (new-side line numbers). Deleted-only hunks (`+c,0`) mark no line: the code
 * around a deletion is unchanged, and a deleted check is caught by the tests
 * that exercise it, not by mutating its neighbours.
 */
export function parseDiffRanges(diff: string): Map<string, LineRange[]> {
  const out = new Map<string, LineRange[]>();
  let file: string | undefined;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++ ')) {
      const name = line.slice(4);
      file = name === '/dev/null' ? undefined : name.replace(/^b\//, '');
      continue;
    }
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk === null || file === undefined) continue;
    const start = Number(hunk[1]);
    const count = hunk[2] === undefined ? 1 : Number(hunk[2]);
    if (count === 0) continue;
    const ranges = out.get(file) ?? [];
    ranges.push({ start, end: start + count - 1 });
    out.set(file, ranges);
  }
  return out;
}

/** Sorted, with ranges at most `gap` lines apart merged (one mutant often spans a few lines). */
export function mergeRanges(ranges: readonly LineRange[], gap = 2): LineRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const merged: LineRange[] = [];
  for (const r of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && r.start <= last.end + gap + 1) {
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    } else {
      merged.push(r);
    }
  }
  return merged;
}

/**
 * The changed lines of consensus-critical files, cut to `budget` lines in
 * total (files in target order, ranges in line order). What did not fit is
 * returned too, so CI can say what it left for a local run.
 */
export function changedJobs(
  diffRanges: ReadonlyMap<string, readonly LineRange[]>,
  targets: readonly string[],
  budget = CI_LINE_BUDGET,
): { jobs: MutationJob[]; skipped: MutationJob[] } {
  const jobs: MutationJob[] = [];
  const skipped: MutationJob[] = [];
  let left = budget;
  for (const file of targets) {
    const ranges = diffRanges.get(file);
    if (ranges === undefined || ranges.length === 0) continue;
    const taken: LineRange[] = [];
    const rest: LineRange[] = [];
    for (const r of mergeRanges(ranges)) {
      const lines = r.end - r.start + 1;
      if (left >= lines) {
        taken.push(r);
        left -= lines;
      } else if (left > 0) {
        taken.push({ start: r.start, end: r.start + left - 1 });
        rest.push({ start: r.start + left, end: r.end });
        left = 0;
      } else {
        rest.push(r);
      }
    }
    if (taken.length > 0) jobs.push({ file, ranges: taken });
    if (rest.length > 0) skipped.push({ file, ranges: rest });
  }
  return { jobs, skipped };
}

/**
 * The rotating sample: `seed` (the commit count) walks first across targets,
 * then across each target's windows, so consecutive commits sample different
 * files and every window of every file comes round.
 */
export function rotatingJob(
  targets: readonly string[],
  lineCount: (file: string) => number,
  seed: number,
  window = CI_WINDOW_LINES,
): MutationJob {
  if (targets.length === 0) throw new Error('no mutation targets');
  const file = targets[seed % targets.length]!;
  const windows = Math.max(1, Math.ceil(lineCount(file) / window));
  const index = Math.floor(seed / targets.length) % windows;
  return { file, ranges: [{ start: index * window + 1, end: (index + 1) * window }] };
}

/** `file` or `file:1-5,9-12`: the MUTATE_TARGET that stryker.config.mjs reads. */
export function jobTarget(job: MutationJob): string {
  if (job.ranges.length === 0) return job.file;
  return `${job.file}:${job.ranges.map((r) => `${r.start}-${r.end}`).join(',')}`;
}
