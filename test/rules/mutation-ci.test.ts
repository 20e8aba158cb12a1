import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  changedJobs,
  jobTarget,
  mergeRanges,
  parseDiffRanges,
  rotatingJob,
} from '../../scripts/mutation-ci.ts';

// The CI mutation run (`npm run mutate -- --ci`) picks its lines from these:
// a wrong parse would mutate the wrong lines and pass a change untested.

const DIFF = `diff --git a/src/consensus/tx-rules.ts b/src/consensus/tx-rules.ts
index 1111111..2222222 100644
--- a/src/consensus/tx-rules.ts
+++ b/src/consensus/tx-rules.ts
@@ -10,0 +11,3 @@ export function checkTxSanity(
+  if (tx.outputs.length === 0) {
+    throw fail('TX_NO_OUTPUTS');
+  }
@@ -40 +43 @@ export function checkTxInputs(
-  if (height < maturity) {
+  if (height <= maturity) {
@@ -60,2 +62,0 @@ export function checkTxInputs(
-  const unused = 1;
-  void unused;
diff --git a/src/crypto/muhash.ts b/src/crypto/muhash.ts
deleted file mode 100644
--- a/src/crypto/muhash.ts
+++ /dev/null
@@ -1,2 +0,0 @@
-a
-b
diff --git a/src/mempool/mempool.ts b/src/mempool/mempool.ts
--- a/src/mempool/mempool.ts
+++ b/src/mempool/mempool.ts
@@ -100,5 +100,7 @@ class Mempool {
+x
`;

describe('CI mutation sample: changed lines', () => {
  it('reads added and changed lines per file, not deletions or deleted files', () => {
    const ranges = parseDiffRanges(DIFF);
    assert.deepEqual(
      [...ranges.entries()],
      [
        [
          'src/consensus/tx-rules.ts',
          [
            { start: 11, end: 13 },
            { start: 43, end: 43 },
          ],
        ],
        ['src/mempool/mempool.ts', [{ start: 100, end: 106 }]],
      ],
    );
  });

  it('merges ranges a couple of lines apart and sorts them', () => {
    assert.deepEqual(
      mergeRanges([
        { start: 20, end: 22 },
        { start: 1, end: 3 },
        { start: 6, end: 8 },
        { start: 5, end: 5 },
      ]),
      [
        { start: 1, end: 8 },
        { start: 20, end: 22 },
      ],
    );
    assert.deepEqual(
      mergeRanges([
        { start: 1, end: 3 },
        { start: 7, end: 7 },
      ]),
      [
        { start: 1, end: 3 },
        { start: 7, end: 7 },
      ],
    );
  });

  it('keeps only consensus-critical targets, in target order, within the line budget', () => {
    const ranges = parseDiffRanges(DIFF);
    ranges.set('src/not-a-target.ts', [{ start: 1, end: 500 }]);
    const targets = ['src/mempool/mempool.ts', 'src/consensus/tx-rules.ts'];
    const { jobs, skipped } = changedJobs(ranges, targets, 9);
    assert.deepEqual(jobs, [
      { file: 'src/mempool/mempool.ts', ranges: [{ start: 100, end: 106 }] },
      { file: 'src/consensus/tx-rules.ts', ranges: [{ start: 11, end: 12 }] },
    ]);
    assert.deepEqual(skipped, [
      {
        file: 'src/consensus/tx-rules.ts',
        ranges: [
          { start: 13, end: 13 },
          { start: 43, end: 43 },
        ],
      },
    ]);
    const all = changedJobs(ranges, targets, 10);
    assert.equal(all.jobs.length, 2);
    assert.deepEqual(all.jobs[1]!.ranges, [{ start: 11, end: 13 }]);
    assert.deepEqual(all.skipped, [
      { file: 'src/consensus/tx-rules.ts', ranges: [{ start: 43, end: 43 }] },
    ]);
    assert.deepEqual(changedJobs(ranges, targets, 11).skipped, []);
  });

  it('finds nothing when no target changed', () => {
    assert.deepEqual(changedJobs(new Map(), ['src/consensus/tx-rules.ts']), {
      jobs: [],
      skipped: [],
    });
  });
});

describe('CI mutation sample: rotation', () => {
  const targets = ['a.ts', 'b.ts', 'c.ts'];
  const lines = (file: string) => ({ 'a.ts': 100, 'b.ts': 40, 'c.ts': 81 })[file]!;

  it('walks across files first, then across each file windows, covering every line', () => {
    const seen = new Map<string, Set<number>>();
    for (let seed = 0; seed < 30; seed++) {
      const job = rotatingJob(targets, lines, seed, 40);
      assert.equal(job.file, targets[seed % 3]);
      assert.equal(job.ranges.length, 1);
      const set = seen.get(job.file) ?? new Set<number>();
      set.add(job.ranges[0]!.start);
      seen.set(job.file, set);
    }
    assert.deepEqual(
      [...seen.get('a.ts')!].sort((x, y) => x - y),
      [1, 41, 81],
    );
    assert.deepEqual([...seen.get('b.ts')!], [1]);
    assert.deepEqual(
      [...seen.get('c.ts')!].sort((x, y) => x - y),
      [1, 41, 81],
    );
    assert.deepEqual(rotatingJob(targets, lines, 3, 40), {
      file: 'a.ts',
      ranges: [{ start: 41, end: 80 }],
    });
  });

  it('refuses an empty target list', () => {
    assert.throws(() => rotatingJob([], lines, 0), /no mutation targets/);
  });
});

describe('CI mutation sample: Stryker target', () => {
  it('formats a job as file:ranges, or the bare file', () => {
    assert.equal(
      jobTarget({
        file: 'src/x.ts',
        ranges: [
          { start: 1, end: 5 },
          { start: 9, end: 9 },
        ],
      }),
      'src/x.ts:1-5,9-9',
    );
    assert.equal(jobTarget({ file: 'src/x.ts', ranges: [] }), 'src/x.ts');
  });
});
