import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { buildGenesisBlock, parseGenesis } from '../../src/chain/genesis.ts';
import { readKeyFile } from '../../src/crypto/key-file.ts';
import { P2P_PROTOCOL_VERSION } from '../../src/p2p/messages.ts';
import { topicName } from '../../src/p2p/topics.ts';
import { chainIdHash } from '../../src/primitives/sighash.ts';
import { toHex } from '../../src/util/bytes.ts';
import { signedPrevote } from '../../test/support/double-sign.ts';
import { createTestPeer, type TestPeer } from '../../test/support/test-peer.ts';
import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, others } from '../harness/steps.ts';

const P2P_PORT = 8646;

interface ValidatorJson {
  readonly bonded: string;
  readonly tombstoned: boolean;
  readonly status: string;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** Polls `probe` until it returns non-null or `ms` pass; null then. */
async function within<T>(ms: number, probe: () => Promise<T | null>): Promise<T | null> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    await sleep(250);
  }
  return null;
}

/**
 * Issue #14 scenario 5. The Byzantine validator is not a node: the harness
 * stops validator `b`'s process, takes its key, and publishes from a bare
 * libp2p peer two prevotes of that key for the height in progress but
 * different blocks (as test/integration/byzantine.test.ts does), so no
 * production configuration can double-sign.
 */
export const scenario: Scenario = {
  name: 'double-signer',
  purpose:
    'a Byzantine validator double-signs (from a bare libp2p peer holding its key) under load: the evidence is committed, the validator slashed 5% and tombstoned and out of the set; the chain goes on, no fork',
  validators: 4,
  ci: true,
  defaultSeconds: 10,
  async run({ cluster, apis, report, random }) {
    const b = Math.floor(random() * cluster.validatorCount);
    const byzantine = cluster.node(b);
    const honest = others(cluster.validatorCount, [b]);
    const target = cluster.node(honest[0]!);
    const key = readKeyFile(join(byzantine.datadir, 'keys', 'validator.json'));
    const keyHex = toHex(key.publicKey);
    const before = await getJson<ValidatorJson>(`${target.rpcUrl}/api/v1/validators/${keyHex}`);
    await cluster.stop(b);
    report.log('fault', `stopped node${b}; its key now signs from a bare libp2p peer`);

    const layout = JSON.parse(
      readFileSync(join(cluster.dir, 'data', 'testnet', 'testnet.json'), 'utf8'),
    ) as { nodes: Array<{ peerId: string }> };
    const genesis = parseGenesis(readFileSync(join(target.datadir, 'genesis.json'), 'utf8'));
    const genesisHash = (await buildGenesisBlock(genesis)).block.hash;
    const index = genesis.validators.indexOf(key.publicKey);
    let peer: TestPeer | null = null;
    try {
      peer = await createTestPeer({
        status: {
          protocolVersion: P2P_PROTOCOL_VERSION,
          chainId: genesis.chainId,
          genesisHash,
          earliestHeight: 0,
          tipHeight: 0,
          tipHash: genesisHash,
        },
        subscribe: true,
      });
      const nodeId = layout.nodes[honest[0]!]!.peerId;
      await peer.libp2p.dial(multiaddr(`/ip4/${target.net.address}/tcp/${P2P_PORT}/p2p/${nodeId}`));
      const voteTopic = topicName(genesis.chainId, 'vote');
      const pubsub = peer.libp2p.services.pubsub;
      await within(10_000, async () =>
        pubsub.getSubscribers(voteTopic).some((p) => p.toString() === nodeId) ? true : null,
      );
      const chainHash = chainIdHash(genesis.chainId);
      const prevote = (height: number, fill: number) =>
        signedPrevote(chainHash, key, index, height, fill);
      // Heights move every block: publish for the height in progress until one lands.
      const committedOn = (api: string) =>
        getJson<{ items: Array<{ consensusKey: string }> }>(`${api}/api/v1/evidence`).then((r) =>
          r.items.some((i) => i.consensusKey === keyHex) ? true : null,
        );
      let seen: true | null = null;
      for (let attempt = 0; attempt < 30 && seen === null; attempt++) {
        const height = (await apis[honest[0]!]!.tipHeight()) + 1;
        await pubsub.publish(voteTopic, prevote(height, 0xa1)).catch(() => undefined);
        await pubsub.publish(voteTopic, prevote(height, 0xb2)).catch(() => undefined);
        seen = await within(1_000, () => committedOn(target.rpcUrl));
      }
      report.log('fault', `node${b}'s key published two prevotes per height until caught`);
    } finally {
      await peer?.close();
    }

    // Evidence committed and the validator punished, as every honest node sees it.
    const committed = await within(60_000, async () => {
      const views = await Promise.all(
        honest.map((i) =>
          getJson<ValidatorJson>(`${cluster.node(i).rpcUrl}/api/v1/validators/${keyHex}`),
        ),
      );
      return views.every((v) => v.tombstoned) ? views : null;
    });
    report.check(
      'evidence committed',
      committed !== null,
      committed === null
        ? `node${b} not tombstoned on every honest node within 60 s`
        : `node${b} tombstoned on nodes ${honest.join(',')}`,
    );
    if (committed !== null) {
      const bonded = BigInt(before.bonded);
      const expected = bonded - (bonded * 500n) / 10_000n;
      report.check(
        'slashed 5%',
        committed.every((v) => BigInt(v.bonded) === expected && v.status === 'tombstoned'),
        `bonded ${bonded} -> ${committed.map((v) => v.bonded).join('/')} (expected ${expected})`,
      );
    }
    const gone = await within(30_000, async () => {
      const set = await getJson<{ validators: Array<{ publicKey: string }> }>(
        `${target.rpcUrl}/api/v1/validators`,
      );
      return set.validators.some((v) => v.publicKey === keyHex) ? null : set.validators.length;
    });
    report.check(
      'out of the set',
      gone !== null,
      gone === null ? `node${b}'s key still in the set` : `the set has ${gone} validators`,
    );
    await expectProgress(
      apis,
      honest,
      { blocks: 3, boundMs: 20_000, name: 'the chain goes on' },
      report,
    );
    // The stopped node comes back as an honest follower (it is no validator any more).
    cluster.start(b);
    report.log('heal', `restarted node${b} (tombstoned: follows, never signs)`);
    await awaitProgress(apis, report, 20_000, `restarting node${b}`, [b]);
  },
};
