// StrykerJS over the consensus-critical files, one file per run (the machine
// is shared: see docs/testing.md). `npm run mutate` drives it through
// scripts/mutate.ts, which sets MUTATE_TARGET; each target lists the test
// files that exercise it, run by the TAP runner as plain `node file.test.ts`
// (node:test in-process, so Stryker's hook sees the coverage).
import { mutationTargets } from './scripts/mutation-targets.ts';

// `file`, `file:10-40`, or `file:10-12,30-41` (the CI run mutates the lines a change touches).
const target = process.env.MUTATE_TARGET ?? 'src/consensus/tx-rules.ts';
const [file, ranges] = target.split(':');
const spec = mutationTargets[file];
if (spec === undefined) throw new Error(`no mutation target ${target}`);
const mutate = ranges === undefined ? [file] : ranges.split(',').map((r) => `${file}:${r}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  tap: {
    testFiles: spec.tests,
    nodeArgs: ['-r', '{{hookFile}}', '--test-reporter=tap', '{{testFile}}'],
    forceBail: true,
  },
  mutate,
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
  timeoutMS: 20_000,
  timeoutFactor: 2,
  // Reason strings and error details are not consensus: a mutant that blanks
  // one is not a broken rule. Error codes are asserted exactly by the tests.
  mutator: { excludedMutations: ['StringLiteral', 'ObjectLiteral'] },
  ignoreStatic: true,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: `reports/mutation/${file.replaceAll('/', '_')}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  incremental: process.env.MUTATE_INCREMENTAL === '1',
  incrementalFile: `reports/mutation/${file.replaceAll('/', '_')}.incremental.json`,
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['/.data', '/tmp', '/reports', '/bench', '/chaos', '/k8s', '/docs', 'coverage'],
  cleanTempDir: true,
};
