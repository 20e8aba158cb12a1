/**
 * A validator joins a running network by stake: four validator processes
 * commit; a fifth node, started with a fresh validator key outside the set,
 * follows; its operator bonds 10 coins with `utxod stake bond` at height H;
 * from H + 2 the set holds five validators and the new one proposes blocks.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKeyFile } from '../../src/crypto/key-file.ts';
import { toHex } from '../../src/util/bytes.ts';
import { getJson, NodeProcess, runUtxod } from '../support/node-process.ts';
import { initTestnet, tipHeight } from '../support/testnet.ts';

interface HeaderJson {
  readonly height: number;
  readonly proposer: string;
  readonly validatorSetHash: string;
}

const root = mkdtempSync(join(tmpdir(), 'utxod-stake-net-'));
const nodes: NodeProcess[] = [];

describe('a validator joins by stake (processes)', () => {
  after(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    rmSync(root, { recursive: true, force: true });
  });

  it('bonded at H, it is in the set from H + 2 and proposes', async () => {
    const out = join(root, 'net');
    const layout = { nodes: initTestnet(out, { validators: 4, blockIntervalMs: 500 }) };
    for (const node of layout.nodes) nodes.push(NodeProcess.startConfigured(node.datadir));
    const url = layout.nodes[0]!.rpcUrl;
    await Promise.all(nodes.map((n) => n.url(120_000)));

    // The fifth node: the network's genesis, a validator key of its own, peers with node 0.
    const dir = join(root, 'node4');
    const joined = runUtxod([
      'init',
      '--datadir',
      dir,
      '--genesis',
      join(layout.nodes[0]!.datadir, 'genesis.json'),
    ]);
    assert.equal(joined.status, 0, joined.stderr);
    mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
    const consensusKey = createKeyFile(join(dir, 'keys', 'validator.json')).publicKey;
    const fifth = NodeProcess.start(dir, [
      '--p2p-host',
      '127.0.0.1',
      '--block-interval',
      '500',
      '--bootstrap',
      layout.nodes[0]!.p2pAddr,
    ]);
    nodes.push(fifth);
    const fifthUrl = await fifth.url(120_000);
    for (let i = 0; (await tipHeight(fifthUrl)) < 3; i++) {
      assert.ok(i < 600, 'the fifth node follows the chain');
      await sleep(200);
    }

    // Alice (a premined devnet account) operates the new validator and bonds 10 coins.
    const aliceKey = join(root, 'alice.json');
    assert.equal(runUtxod(['keys', 'derive', '--index', '0', '--out', aliceKey]).status, 0);
    const bond = runUtxod([
      'stake',
      'bond',
      '--from-key',
      aliceKey,
      '--amount',
      '10',
      '--validator-key',
      join(dir, 'keys', 'validator.json'),
      // node 0's data directory: the command authenticates with its cookie.
      '--datadir',
      layout.nodes[0]!.datadir,
      '--wait',
    ]);
    assert.equal(bond.status, 0, bond.stderr);
    const committedAt = Number(/height (\d+)/.exec(bond.stdout)?.[1]);
    assert.ok(Number.isSafeInteger(committedAt), bond.stdout);

    // The set of H + 2 on, as every header commits to it, and the new validator proposes.
    const keyHex = toHex(consensusKey);
    let proposedAt = -1;
    for (let i = 0; proposedAt === -1; i++) {
      assert.ok(i < 300, 'the new validator proposed no block within a minute');
      const height = await tipHeight(url);
      if (height > committedAt + 2) {
        const { body } = await getJson<{ headers: HeaderJson[] }>(
          `${url}/api/v1/headers?from=${committedAt}&count=${height - committedAt + 1}`,
        );
        const sets = new Map(body.headers.map((h) => [h.height, h.validatorSetHash]));
        assert.equal(sets.get(committedAt + 1), sets.get(committedAt), 'no change at H + 1');
        assert.notEqual(sets.get(committedAt + 2), sets.get(committedAt + 1), 'a new set at H + 2');
        proposedAt = body.headers.find((h) => h.proposer === keyHex)?.height ?? -1;
      }
      if (proposedAt === -1) await sleep(200);
    }
    assert.ok(proposedAt >= committedAt + 2, `proposed at ${proposedAt}, bonded at ${committedAt}`);
    const validators = await getJson<unknown>(`${url}/api/v1/validators`);
    assert.equal(validators.status, 200);
    assert.ok(JSON.stringify(validators.body).includes(keyHex), 'the API lists the new validator');
    // Every node, the new validator's own included, holds the same chain.
    const last = Math.min(...(await Promise.all([url, fifthUrl].map(tipHeight))));
    const [a, b] = await Promise.all(
      [url, fifthUrl].map(
        async (u) =>
          (await getJson<{ headers: HeaderJson[] }>(`${u}/api/v1/headers?from=1&count=${last}`))
            .body.headers,
      ),
    );
    assert.deepEqual(b, a);
  });
});
