import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UTXOD_BIN } from '../harness/cluster.ts';
import { awaitProgress } from '../harness/invariants.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, others } from '../harness/steps.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** The commit that introduced this schema; the network starts on its parent. */
const SCHEMA_CHANGE = 'SCHEMA_VERSION = 2';

function git(args: string[]): string {
  return execFileSync('git', ['-C', REPO, ...args], { encoding: 'utf8' }).trim();
}

/**
 * The last build of database schema 1: the parent of the commit that made the
 * layout version 2, exported from this repository's own history (a plain
 * tree, no worktree to clean up) and run with this checkout's packages.
 */
function exportOldBuild(into: string): { ref: string; bin: string } {
  const change = git([
    'log',
    '-1',
    '--format=%H',
    `-S${SCHEMA_CHANGE}`,
    '--',
    'src/storage/buckets.ts',
  ]);
  if (change === '') throw new Error(`no commit introduced "${SCHEMA_CHANGE}" in ${REPO}`);
  const ref = git(['rev-parse', `${change}^`]);
  mkdirSync(into, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${REPO}" archive "${ref}" | tar -x -C "${into}"`]);
  symlinkSync(join(REPO, 'node_modules'), join(into, 'node_modules'));
  return { ref, bin: join(into, 'bin', 'utxod.js') };
}

function migrationsLogged(logPath: string): number {
  return readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"event":"database-migrated"')).length;
}

/**
 * Issue #14 scenario 11 (the database half): a rolling upgrade across a
 * change of the database layout. Each node's migration runs at its start on
 * the new build while the other three keep the chain going.
 */
export const scenario: Scenario = {
  name: 'upgrade-migration',
  purpose:
    'the network starts on the last build of database schema 1; each node in turn is stopped and started on this build, migrates its database at start, and rejoins; the chain never halts and every node agrees',
  validators: 4,
  fullNodes: 0,
  ci: false,
  defaultSeconds: 0,
  async prepare(cluster, report) {
    const old = exportOldBuild(join(cluster.dir, 'data', 'old-build'));
    for (const node of cluster.nodes) node.bin = old.bin;
    report.log('note', `every node starts on ${old.ref.slice(0, 12)} (database schema 1)`);
  },
  async run({ cluster, apis, report, recoveryBoundMs }) {
    for (const node of cluster.nodes) {
      const i = node.net.index;
      await cluster.stop(i);
      report.check(
        `node${i} stops cleanly on the old build`,
        node.lastExit?.code === 0,
        `exit code ${node.lastExit?.code}, signal ${node.lastExit?.signal}`,
      );
      await expectProgress(
        apis,
        others(cluster.nodes.length, [i]),
        { blocks: 2, boundMs: recoveryBoundMs, name: `chain goes on while node${i} upgrades` },
        report,
      );
      node.bin = UTXOD_BIN;
      cluster.start(i);
      report.log('heal', `node${i} started on this build`);
      await awaitProgress(apis, report, recoveryBoundMs, `upgrade of node${i}`, [i]);
      const migrated = migrationsLogged(node.logPath);
      report.check(
        `node${i} migrated its database once (schema 1 -> 2)`,
        migrated === 1,
        `${migrated} database-migrated log lines`,
      );
    }
  },
};
