// `npm run mutate [file[:a-b,c-d]...]`: StrykerJS over the consensus-critical
// files, one file per Stryker run, one after another (the machine is shared).
// `--plan` prints the Stryker targets without running them.
// `npm run mutate -- --ci`: the lines of those files that the change touches
// (against MUTATE_BASE, else the merge base with main, else the previous
// commit), cut to a line budget; a rotating window when none changed. Fails
// below MIN_CI_SCORE or past the time budget. Scores per file are printed at
// the end; docs/testing.md records them.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import {
  changedJobs,
  jobTarget,
  type MutationJob,
  parseDiffRanges,
  rotatingJob,
} from './mutation-ci.ts';
import { mutationTargets } from './mutation-targets.ts';

const MIN_CI_SCORE = 85;
/** The whole CI mutation step, a safety net behind the line budget. */
const CI_TIMEOUT_MS = Number(process.env.MUTATE_CI_TIMEOUT_MS ?? 10 * 60_000);

const args = process.argv.slice(2);
const ci = args.includes('--ci');
const named = args.filter((a) => !a.startsWith('--'));
const targetFiles = Object.keys(mutationTargets);

function git(...gitArgs: string[]): string | undefined {
  const run = spawnSync('git', gitArgs, { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/** The commit a CI change is compared with, or undefined (no git, shallow clone). */
function ciBase(): string | undefined {
  const head = git('rev-parse', 'HEAD');
  if (head === undefined) return undefined;
  if (process.env.MUTATE_BASE) return git('rev-parse', '--verify', process.env.MUTATE_BASE);
  for (const ref of ['origin/main', 'main']) {
    const base = git('merge-base', 'HEAD', ref);
    // On main itself the merge base is HEAD: compare with the previous commit.
    if (base !== undefined && base !== head) return base;
  }
  return git('rev-parse', '--verify', 'HEAD^');
}

function ciJobs(): MutationJob[] {
  const base = ciBase();
  if (base !== undefined) {
    const diff = git('diff', '--unified=0', '--no-color', base, 'HEAD', '--', ...targetFiles);
    if (diff !== undefined) {
      const { jobs, skipped } = changedJobs(parseDiffRanges(diff), targetFiles);
      for (const job of skipped) {
        console.log(
          `not mutated in CI (line budget), run locally: npm run mutate -- ${jobTarget(job)}`,
        );
      }
      if (jobs.length > 0) {
        console.log(`mutating the lines changed since ${base.slice(0, 12)}`);
        return jobs;
      }
    }
  }
  const seed = Number(git('rev-list', '--count', 'HEAD') ?? Math.floor(Date.now() / 86_400_000));
  const lines = (file: string) => readFileSync(file, 'utf8').split('\n').length;
  const job = rotatingJob(targetFiles, lines, seed);
  console.log(
    `no consensus-critical file changed: rotating sample ${jobTarget(job)} (seed ${seed})`,
  );
  return [job];
}

interface Report {
  files: Record<
    string,
    {
      mutants: Array<{
        status: string;
        mutatorName: string;
        replacement?: string;
        location: { start: { line: number } };
      }>;
    }
  >;
}

function reportPath(file: string): string {
  return `reports/mutation/${file.replaceAll('/', '_')}.json`;
}

function score(file: string): {
  killed: number;
  survived: number;
  noCov: number;
  pct: number;
  survivors: string[];
} {
  const path = reportPath(file);
  // Stryker writes no report when the lines hold no mutant (comments, types).
  if (!existsSync(path)) return { killed: 0, survived: 0, noCov: 0, pct: 100, survivors: [] };
  const report = JSON.parse(readFileSync(path, 'utf8')) as Report;
  let killed = 0;
  let survived = 0;
  let noCov = 0;
  const survivors: string[] = [];
  for (const [name, { mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
      if (m.status === 'Killed' || m.status === 'Timeout') killed++;
      else if (m.status === 'Survived' || m.status === 'NoCoverage') {
        if (m.status === 'Survived') survived++;
        else noCov++;
        survivors.push(
          `  ${m.status} ${name}:${m.location.start.line} ${m.mutatorName} -> ${m.replacement ?? ''}`,
        );
      }
    }
  }
  const total = killed + survived + noCov;
  return { killed, survived, noCov, pct: total === 0 ? 100 : (100 * killed) / total, survivors };
}

const jobs: MutationJob[] = ci
  ? ciJobs()
  : (named.length > 0 ? named : targetFiles).map((t) => {
      const [file, ranges] = t.split(':') as [string, string | undefined];
      return {
        file,
        ranges:
          ranges === undefined
            ? []
            : ranges.split(',').map((r) => {
                const [start, end] = r.split('-').map(Number);
                return { start: start!, end: end ?? start! };
              }),
      };
    });

if (args.includes('--plan')) {
  // What would run, without running it (to check the CI selection locally).
  for (const job of jobs) console.log(jobTarget(job));
  process.exit(0);
}

const deadline = Date.now() + CI_TIMEOUT_MS;
const rows: string[] = [];
let failed = false;
for (const job of jobs) {
  const target = jobTarget(job);
  // A report left by an earlier run must not be read as this run's.
  rmSync(reportPath(job.file), { force: true });
  const run = spawnSync('stryker', ['run'], {
    stdio: 'inherit',
    env: { ...process.env, MUTATE_TARGET: target },
    ...(ci ? { timeout: Math.max(1, deadline - Date.now()), killSignal: 'SIGTERM' as const } : {}),
  });
  if (run.error !== undefined || run.status !== 0) {
    const why =
      (run.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT'
        ? `past the CI budget of ${CI_TIMEOUT_MS / 60_000} min (MUTATE_CI_TIMEOUT_MS)`
        : `stryker exited with ${run.status}`;
    rows.push(`${target}: ${why}`);
    failed = true;
    if (run.error !== undefined) break;
    continue;
  }
  const s = score(job.file);
  rows.push(
    `${target}: ${s.pct.toFixed(1)}% killed (${s.killed} killed, ${s.survived} survived, ${s.noCov} not covered)`,
    ...s.survivors,
  );
  if (ci && s.pct < MIN_CI_SCORE) failed = true;
}
console.log(`\nmutation scores (${new Date().toISOString().slice(0, 10)}):\n${rows.join('\n')}`);
if (ci && failed) {
  console.log(
    `\nCI needs ${MIN_CI_SCORE}% killed per file. Kill a survivor with a test, or mark an ` +
      'equivalent mutant with `// Stryker disable next-line <Mutator>: <why>` and list it in docs/testing.md.',
  );
}
if (failed) process.exitCode = 1;
