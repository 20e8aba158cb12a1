import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createKeyFile, readKeyFile } from '../../src/crypto/key-file.ts';
import { toHex } from '../../src/util/index.ts';
import type { NodeApi } from '../harness/api.ts';
import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import { type CliResult, utxodCli } from '../harness/operator.ts';
import type { ScenarioReport } from '../harness/report.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress } from '../harness/steps.ts';

const NEW = 4;
const UNBONDED = 0;
const ROTATED = 3;

/** Issue #14 scenario 8: the validator set changes three ways under load, each during a partition. */
export const scenario: Scenario = {
  name: 'validator-set-change',
  purpose:
    'under load, each during a partition that the majority side outvotes: node4 bonds and joins the set, validator 0 unbonds all and leaves it, validator 3 rotates its key and signs with the new one; every change takes effect at H+2 on every node, the chain never halts, no fork',
  validators: 4,
  fullNodes: 1,
  ci: false,
  defaultSeconds: 0,
  // Fewer blocks while a node is cut off or restarting (see the liveness note in run).
  blockIntervalMs: 3_000,
  prepare(cluster) {
    // The full node holds a consensus key from its first start, so it signs once its bond counts.
    const keys = join(cluster.node(NEW).datadir, 'keys');
    mkdirSync(keys, { recursive: true, mode: 0o700 });
    createKeyFile(join(keys, 'validator.json'));
  },
  async run({ net, cluster, apis, report, recoveryBoundMs }) {
    const keysDir = join(cluster.dir, 'operator-keys');
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    const rpc = (i: number) => ['--rpc', cluster.node(i).rpcUrl, '--token', cluster.node(i).token];
    const cli = async (what: string, args: string[]): Promise<CliResult> => {
      const result = await utxodCli(args, 180_000);
      if (result.code !== 0)
        throw new Error(`${what}: exit ${result.code}: ${result.stderr.trim() || result.stdout}`);
      return result;
    };
    // Operators: a premined devnet account bonds for node4 (index 2; the load uses index 0);
    // validators 0 and 3 were bonded at genesis with their consensus key as operator.
    const bonder = join(keysDir, 'bonder.json');
    await cli('derive the bonder key', ['keys', 'derive', '--index', '2', '--out', bonder]);
    const operator0 = join(keysDir, 'operator0.json');
    const operator3 = join(keysDir, 'operator3.json');
    copyFileSync(join(cluster.node(UNBONDED).datadir, 'keys', 'validator.json'), operator0);
    copyFileSync(join(cluster.node(ROTATED).datadir, 'keys', 'validator.json'), operator3);
    // Fees for the two genesis operators, from another premined account.
    const funder = join(keysDir, 'funder.json');
    await cli('derive the funder key', ['keys', 'derive', '--index', '1', '--out', funder]);
    for (const file of [operator0, operator3]) {
      const address = /address:\s+(\S+)/.exec(
        (
          await cli('operator address', [
            'keys',
            'show',
            '--file',
            file,
            '--datadir',
            cluster.node(1).datadir,
          ])
        ).stdout,
      )?.[1];
      if (address === undefined) throw new Error(`no address for ${file}`);
      await cli('fund an operator', [
        'send',
        '--from-key',
        funder,
        '--to',
        address,
        '--amount',
        '5',
        '--wait',
        ...rpc(1),
      ]);
    }
    report.log('note', 'operators of validators 0 and 3 funded with 5 coins each for fees');
    const committedAt = (r: CliResult) => Number(/committed at height (\d+)/.exec(r.stdout)?.[1]);
    const all = cluster.nodes.map((_, i) => i);

    // Each change's minority is a different node, so no validator misses half of
    // the liveness window (100 blocks) and is jailed for downtime on the way.
    // 1. Bond: {0} | {1,2,3,4}. 30 of 40 power on the majority side, 40 of 50 once node4 counts.
    const newKey = toHex(
      readKeyFile(join(cluster.node(NEW).datadir, 'keys', 'validator.json')).publicKey,
    );
    net.partition([[UNBONDED], [1, 2, ROTATED, NEW]]);
    report.log('fault', 'partition {0} | {1,2,3,4}');
    const bond = await cli('bond', [
      'stake',
      'bond',
      '--from-key',
      bonder,
      '--amount',
      '10',
      '--validator-key',
      join(cluster.node(NEW).datadir, 'keys', 'validator.json'),
      '--wait',
      ...rpc(1),
    ]);
    const bondAt = committedAt(bond);
    report.log(
      'fault',
      `node4 bonded 10 coins (power 10), committed at height ${bondAt} during the partition`,
    );
    await expectSetChange(apis, [1, 2, ROTATED, NEW], bondAt, { has: newKey }, 'the bond', report);
    await expectProposal(apis[1]!, newKey, bondAt + 2, 'node4 proposes as a validator', report);
    net.heal();
    report.log('heal', 'partition healed');
    await awaitProgress(apis, report, recoveryBoundMs, 'healing after the bond');

    // 2. Unbond: {1} | {0,2,3,4}. 40 of 50 power on the majority side, then 30 of 40.
    const key0 = cluster.node(UNBONDED).validatorKey ?? '';
    net.partition([[1], [UNBONDED, 2, ROTATED, NEW]]);
    report.log('fault', 'partition {1} | {0,2,3,4}');
    const unbond = await cli('unbond', [
      'stake',
      'unbond',
      '--from-key',
      operator0,
      '--amount',
      '10',
      '--wait',
      ...rpc(2),
    ]);
    const unbondAt = committedAt(unbond);
    report.log(
      'fault',
      `validator 0 unbonded all 10 coins, committed at height ${unbondAt} during the partition`,
    );
    await expectSetChange(
      apis,
      [UNBONDED, 2, ROTATED, NEW],
      unbondAt,
      { lacks: key0 },
      'the unbond',
      report,
    );
    await expectProgress(
      apis,
      [UNBONDED, 2, ROTATED, NEW],
      {
        blocks: 3,
        boundMs: recoveryBoundMs,
        name: 'validators 2,3,4 commit (30 of 40) and node0 follows as a full node',
      },
      report,
    );
    net.heal();
    report.log('heal', 'partition healed');
    await awaitProgress(apis, report, recoveryBoundMs, 'healing after the unbond');

    // 3. Key rotation: {3} | {0,1,2,4}. 30 of 40 power on the majority side (0 is a full node now).
    const oldKey3 = cluster.node(ROTATED).validatorKey ?? '';
    const rotatedFile = join(keysDir, 'validator3-rotated.json');
    const rotatedKey = toHex(createKeyFile(rotatedFile).publicKey);
    net.partition([[ROTATED], [UNBONDED, 1, 2, NEW]]);
    report.log('fault', 'partition {3} | {0,1,2,4}');
    const rotate = await cli('rotate', [
      'stake',
      'rotate-key',
      '--from-key',
      operator3,
      '--validator-key',
      rotatedFile,
      '--wait',
      ...rpc(1),
    ]);
    const rotateAt = committedAt(rotate);
    report.log(
      'fault',
      `validator 3 rotated its consensus key, committed at height ${rotateAt} during the partition`,
    );
    // The operator's move: stop the node, give it the new key, start it again.
    await cluster.stop(ROTATED);
    const target = join(cluster.node(ROTATED).datadir, 'keys', 'validator.json');
    copyFileSync(rotatedFile, target);
    chmodSync(target, 0o600);
    await expectSetChange(
      apis,
      [1, 2, NEW],
      rotateAt,
      { has: rotatedKey, lacks: oldKey3 },
      'the key rotation',
      report,
    );
    cluster.start(ROTATED);
    net.heal();
    report.log('heal', 'node3 restarted with its new key; partition healed');
    await awaitProgress(apis, report, recoveryBoundMs, 'restarting node3 with its new key', [
      ROTATED,
    ]);
    await expectProposal(
      apis[1]!,
      rotatedKey,
      rotateAt + 2,
      'validator 3 proposes with its new key',
      report,
    );
    await expectProgress(
      apis,
      all,
      { blocks: 3, boundMs: recoveryBoundMs, name: 'the chain goes on with the changed set' },
      report,
    );
  },
};

/**
 * The set changes at H+2 and not before, as every header on the listed nodes
 * commits to (`validatorSetHash`), and `GET /api/v1/validators` then lists
 * (or no longer lists) the key.
 */
async function expectSetChange(
  apis: readonly NodeApi[],
  which: readonly number[],
  at: number,
  want: { has?: string; lacks?: string },
  what: string,
  report: ScenarioReport,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  let detail = 'no node reached the height';
  while (Date.now() < deadline) {
    const views = await Promise.all(
      which.map(async (i) => {
        const api = apis[i]!;
        if ((await api.tipHeight()) < at + 2) return null;
        const headers = await api.headers(at, 3);
        const set = await api.validators();
        return { headers, keys: set.validators.map((v) => v.publicKey) };
      }),
    ).catch(() => null);
    if (views?.every((v) => v !== null)) {
      const ok = views.every(
        (v) =>
          v.headers.length === 3 &&
          v.headers[1]!.validatorSetHash === v.headers[0]!.validatorSetHash &&
          v.headers[2]!.validatorSetHash !== v.headers[1]!.validatorSetHash &&
          (want.has === undefined || v.keys.includes(want.has)) &&
          (want.lacks === undefined || !v.keys.includes(want.lacks)),
      );
      const first = views[0]!;
      detail = `nodes ${which.join(',')}: set hash at ${at}/${at + 1}/${at + 2} ${first.headers.map((h) => h.validatorSetHash.slice(0, 8)).join('/')}, ${first.keys.length} validators${want.has === undefined ? '' : `, ${want.has.slice(0, 10)} ${first.keys.includes(want.has) ? 'in' : 'not in'} the set`}${want.lacks === undefined ? '' : `, ${want.lacks.slice(0, 10)} ${first.keys.includes(want.lacks) ? 'still in' : 'out of'} the set`}`;
      report.check(`${what} takes effect at H+2`, ok, detail);
      return;
    }
    await sleep(500);
  }
  report.check(`${what} takes effect at H+2`, false, `${detail} within 60 s (H = ${at})`);
}

/** A block from `from` on whose proposer is `key`, within 60 s. */
async function expectProposal(
  api: NodeApi,
  key: string,
  from: number,
  what: string,
  report: ScenarioReport,
): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < 60_000) {
    const tip = await api.tipHeight().catch(() => -1);
    if (tip >= from) {
      const found = (await api.headers(from, tip - from + 1).catch(() => [])).find(
        (h) => h.proposer === key,
      );
      if (found !== undefined) {
        report.check(
          what,
          true,
          `block ${found.height} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        );
        return;
      }
    }
    await sleep(500);
  }
  report.check(what, false, `no block from ${from} proposed by ${key.slice(0, 10)} within 60 s`);
}
