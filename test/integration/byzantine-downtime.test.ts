/**
 * An offline validator is jailed, then unjailed, on four validator processes
 * with a small liveness window (10 blocks, 20% to sign, 4 s of jail).
 * Validator 3 is killed: once it has missed 9 of its last 10 blocks the
 * chain jails it (slashed 1%, out of the set). Restarted, it follows the
 * chain and its own /metrics reads utxod_validator_jailed 1; after the jail
 * time its operator sends `utxod stake unjail` and it is back in the set.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readKeyFile } from '../../src/crypto/key-file.ts';
import { toHex } from '../../src/util/bytes.ts';
import { getJson, NodeProcess, runUtxod } from '../support/node-process.ts';
import { initTestnet, tipHeight } from '../support/testnet.ts';

const root = mkdtempSync(join(tmpdir(), 'utxod-downtime-'));
const nodes: NodeProcess[] = [];

interface ValidatorJson {
  readonly bonded: string;
  readonly jailedUntil: number | null;
  readonly status: string;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(250);
  }
}

const inSet = async (url: string, key: string) =>
  (
    await getJson<{ validators: { publicKey: string }[] }>(`${url}/api/v1/validators`)
  ).body.validators.some((v) => v.publicKey === key);

describe('an offline validator (processes)', () => {
  after(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    rmSync(root, { recursive: true, force: true });
  });

  it('is jailed, reads jailed on its own /metrics after a restart, and unjail brings it back', async () => {
    const layout = initTestnet(join(root, 'net'), {
      validators: 4,
      blockIntervalMs: 1000,
      // 20% to sign: only a validator that missed 9 of its last 10 blocks is
      // jailed, not an honest one whose precommit a loaded machine delayed
      // past the certificate's first two thirds.
      staking: { signedBlocksWindow: 10, minSignedPerWindowBps: 2000, downtimeJailMs: 4000 },
    });
    for (const node of layout) nodes.push(NodeProcess.startConfigured(node.datadir));
    await Promise.all(nodes.map((n) => n.url(300_000)));
    const url = layout[0]!.rpcUrl;
    const keyFile = join(layout[3]!.datadir, 'keys', 'validator.json');
    const key = toHex(readKeyFile(keyFile).publicKey);
    // Past coinbase maturity (10), so validator 3 owns spendable rewards to pay the unjail fee.
    await until('height 16', 300_000, async () => ((await tipHeight(url)) >= 16 ? true : null));
    const before = (await getJson<ValidatorJson>(`${url}/api/v1/validators/${key}`)).body;
    assert.equal(before.status, 'active');

    nodes[3]!.child.kill('SIGKILL');
    await nodes[3]!.exited;
    const jailed = await until('validator 3 jailed', 120_000, async () => {
      const v = (await getJson<ValidatorJson>(`${url}/api/v1/validators/${key}`)).body;
      return v.jailedUntil !== null ? v : null;
    });
    assert.equal(jailed.status, 'jailed');
    const bonded = BigInt(before.bonded);
    assert.equal(BigInt(jailed.bonded), bonded - (bonded * 100n) / 10_000n, 'slashed 1%');
    await until('validator 3 out of the set', 30_000, async () =>
      (await inSet(url, key)) ? null : true,
    );
    // Three of four keep committing.
    const h = await tipHeight(url);
    await until('three validators commit', 30_000, async () =>
      (await tipHeight(url)) >= h + 3 ? true : null,
    );

    // Restarted, it follows the chain and reports itself jailed.
    const restarted = NodeProcess.startConfigured(layout[3]!.datadir);
    nodes[3] = restarted;
    const restartedUrl = await restarted.url(300_000);
    const metricsUrl = layout[3]!.metricsUrl;
    const tip = await tipHeight(url);
    await until('the restarted node follows the chain', 120_000, async () =>
      (await tipHeight(restartedUrl)) >= tip ? true : null,
    );
    await until('utxod_validator_jailed 1 on its own /metrics', 120_000, async () =>
      /^utxod_validator_jailed 1$/m.test(await (await fetch(metricsUrl)).text()) ? true : null,
    );

    // After the jail time (block time), its operator unjails it; from H + 2 it is in the set again.
    await until('jail time over', 60_000, async () => {
      const tip = await getJson<{ time: number }>(`${url}/api/v1/chain/tip`);
      return tip.body.time > (jailed.jailedUntil ?? 0) ? true : null;
    });
    const unjail = runUtxod([
      'stake',
      'unjail',
      '--from-key',
      keyFile,
      '--datadir',
      layout[0]!.datadir,
      '--wait',
    ]);
    assert.equal(unjail.status, 0, `${unjail.stdout}\n${unjail.stderr}`);
    await until('validator 3 back in the set', 60_000, async () =>
      (await inSet(url, key)) ? true : null,
    );
    await until('utxod_validator_jailed 0', 60_000, async () =>
      /^utxod_validator_jailed 0$/m.test(await (await fetch(metricsUrl)).text()) ? true : null,
    );
  });
});
