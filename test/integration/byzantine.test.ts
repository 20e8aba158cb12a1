/**
 * A double-signing validator against three honest validator processes.
 * The Byzantine validator is not a node: the test holds validator 3's key
 * and publishes, from a bare libp2p peer, two prevotes of that key for the
 * same height and round but different blocks. Such behaviour therefore
 * exists only here, never in a configuration of the node. The honest nodes
 * detect the equivocation (a warning and a metric), a proposer commits the
 * evidence in a block, the double-signer is slashed 5% and tombstoned and
 * leaves the set two heights later, and the chain, with 3 of 4 validators'
 * power, goes on without a fork.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { multiaddr } from '@multiformats/multiaddr';
import { buildGenesisBlock, parseGenesis } from '../../src/chain/genesis.ts';
import { readKeyFile } from '../../src/crypto/key-file.ts';
import type { StatusMessage } from '../../src/p2p/messages.ts';
import { P2P_PROTOCOL_VERSION } from '../../src/p2p/messages.ts';
import { topicName } from '../../src/p2p/topics.ts';
import { chainIdHash } from '../../src/primitives/sighash.ts';
import { toHex } from '../../src/util/bytes.ts';
import { signedPrevote } from '../support/double-sign.ts';
import { getJson, NodeProcess } from '../support/node-process.ts';
import { createTestPeer, type TestPeer } from '../support/test-peer.ts';
import { initTestnet, tipHeight } from '../support/testnet.ts';

const root = mkdtempSync(join(tmpdir(), 'utxod-byzantine-'));
const honest: NodeProcess[] = [];
let peer: TestPeer | null = null;

describe('a double-signing validator (test-only, outside the node)', () => {
  after(async () => {
    await peer?.close();
    for (const node of honest) node.child.kill('SIGKILL');
    await Promise.all(honest.map((n) => n.exited));
    rmSync(root, { recursive: true, force: true });
  });

  it('is caught, slashed and tombstoned by the honest validators, and the chain goes on without a fork', async () => {
    const out = join(root, 'net');
    const nodes = initTestnet(out, { validators: 4, blockIntervalMs: 1000 });
    // Validators 0-2 run honestly; validator 3 is the test.
    for (const node of nodes.slice(0, 3)) honest.push(NodeProcess.startConfigured(node.datadir));
    const urls = nodes.slice(0, 3).map((n) => n.rpcUrl);
    await Promise.all(honest.map((n) => n.url(60_000)));
    const listen = await honest[0]!.waitForLog((l) => l.msg === 'p2p listening', 60_000);
    const nodeId = String(listen['peerId']);
    for (;;) {
      if ((await tipHeight(urls[0]!).catch(() => 0)) >= 2) break;
      await sleep(200);
    }

    const genesis = parseGenesis(readFileSync(join(nodes[0]!.datadir, 'genesis.json'), 'utf8'));
    const genesisHash = (await buildGenesisBlock(genesis)).block.hash;
    const byzantine = readKeyFile(join(nodes[3]!.datadir, 'keys', 'validator.json'));
    const index = genesis.validators.indexOf(byzantine.publicKey);
    assert.ok(index >= 0);
    const status: StatusMessage = {
      protocolVersion: P2P_PROTOCOL_VERSION,
      chainId: genesis.chainId,
      genesisHash,
      tipHeight: 0,
      tipHash: genesisHash,
      earliestHeight: 0,
    };
    peer = await createTestPeer({ status, subscribe: true });
    const addr = (listen['listenAddrs'] as string[])[0]!;
    await peer.libp2p.dial(multiaddr(addr));
    await peer.reqResp.getStatus(nodeId);
    const voteTopic = topicName(genesis.chainId, 'vote');
    const pubsub = peer.libp2p.services.pubsub;
    for (
      let i = 0;
      i < 50 && !pubsub.getSubscribers(voteTopic).some((p) => p.toString() === nodeId);
      i++
    )
      await sleep(100);

    // Two prevotes of validator 3 for the height in progress, round 0, different blocks.
    const chainHash = chainIdHash(genesis.chainId);
    const prevote = (height: number, fill: number) =>
      signedPrevote(chainHash, byzantine, index, height, fill);
    const stakeBefore = await validatorView(urls[0]!, toHex(byzantine.publicKey));
    const caught = honest[0]!.waitForLog((l) => l.msg === 'duplicate vote evidence', 30_000);
    let detected = false;
    void caught.then(() => {
      detected = true;
    });
    // Heights move every second: try a few until one lands while its height is in progress.
    for (let attempt = 0; attempt < 20 && !detected; attempt++) {
      const height = (await tipHeight(urls[0]!)) + 1;
      await pubsub.publish(voteTopic, prevote(height, 0xa1)).catch(() => undefined);
      await pubsub.publish(voteTopic, prevote(height, 0xb2)).catch(() => undefined);
      await sleep(500);
    }
    const committedLog = honest[0]!.waitForLog((l) => l['event'] === 'evidence-committed', 120_000);
    const evidence = await caught;
    assert.equal(evidence['validatorIndex'], index);
    assert.equal(evidence['level'], 40, 'evidence is logged at warn');

    // A proposer commits the evidence: slashed 5% (burned), tombstoned for good.
    const committed = await committedLog;
    assert.equal(committed['level'], 40, 'committed evidence is logged at warn');
    assert.equal(committed['key'], toHex(byzantine.publicKey));
    const committedAt = Number(committed['height']);
    const punished = await validatorView(urls[0]!, toHex(byzantine.publicKey));
    assert.equal(punished.tombstoned, true);
    assert.equal(punished.status, 'tombstoned');
    const bonded = BigInt(stakeBefore.bonded);
    assert.equal(BigInt(punished.bonded), bonded - (bonded * 500n) / 10_000n);
    const listed = await getJson<{ items: { consensusKey: string }[] }>(
      `${urls[1]}/api/v1/evidence`,
    );
    assert.deepEqual(
      listed.body.items.map((i) => i.consensusKey),
      [toHex(byzantine.publicKey)],
    );

    const metrics = await (await fetch(nodes[0]!.metricsUrl)).text();
    assert.match(metrics, /^utxod_consensus_evidence_total\{stage="seen"\} [1-9]/m);
    assert.match(metrics, /^utxod_consensus_evidence_total\{stage="committed"\} 1$/m);

    // Changes of block H take effect at H+2: the set deciding H+3 has no such key.
    for (;;) {
      if ((await tipHeight(urls[0]!)) >= committedAt + 2) break;
      await sleep(200);
    }
    const set = await getJson<{ height: number; validators: { publicKey: string }[] }>(
      `${urls[0]}/api/v1/validators`,
    );
    assert.ok(set.body.height >= committedAt + 2);
    assert.equal(set.body.validators.length, 3);
    assert.ok(!set.body.validators.some((v) => v.publicKey === toHex(byzantine.publicKey)));

    // The three honest validators (30 of 40 power) keep committing, on one chain.
    const before = await tipHeight(urls[0]!);
    for (;;) {
      const heights = await Promise.all(urls.map(tipHeight));
      if (heights.every((h) => h >= before + 3)) break;
      await sleep(200);
    }
    const last = Math.min(...(await Promise.all(urls.map(tipHeight))));
    const chains = await Promise.all(
      urls.map(async (url) =>
        (
          await getJson<{ headers: { hash: string }[] }>(
            `${url}/api/v1/headers?from=1&count=${last}`,
          )
        ).body.headers.map((h) => h.hash),
      ),
    );
    assert.deepEqual(chains[1], chains[0]);
    assert.deepEqual(chains[2], chains[0]);
  });
});

async function validatorView(
  url: string,
  key: string,
): Promise<{ bonded: string; tombstoned: boolean; status: string }> {
  const res = await getJson<{ bonded: string; tombstoned: boolean; status: string }>(
    `${url}/api/v1/validators/${key}`,
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}
