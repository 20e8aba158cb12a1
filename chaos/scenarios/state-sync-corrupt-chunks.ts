import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptSnapshotPeer, peerIdOf } from '../harness/corrupt-snapshot-peer.ts';
import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import type { Scenario } from '../harness/scenario.ts';

const SOURCE = 0;
const JOINER = 4;

/** Issue #14 scenario 9: a new node state-syncs under load while one peer serves corrupted chunks. */
export const scenario: Scenario = {
  name: 'state-sync-corrupt-chunks',
  purpose:
    'a new node joins by state sync while four validators commit under load; one of the two peers offering the snapshot (a bare peer the harness runs) serves every chunk with a byte flipped: the new node bans that peer, fetches those chunks from the honest one, verifies the roots and follows the chain',
  validators: 4,
  fullNodes: 1,
  startLater: [JOINER],
  ci: false,
  defaultSeconds: 0,
  prepare(cluster) {
    // Node 0 alone writes snapshots (validators do not by default), in small
    // chunks so there are several to fetch, and the corrupting peer relays
    // them: exactly two peers offer the snapshot, and the joiner needs both.
    const file = join(cluster.node(SOURCE).datadir, 'utxod.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    Object.assign(config, { snapshotInterval: 10, snapshotKeep: 3, snapshotChunkBytes: 1024 });
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  },
  async run({ cluster, apis, report, recoveryBoundMs }) {
    const info = (await (
      await fetch(`${cluster.node(SOURCE).rpcUrl}/api/v1/chain/info`)
    ).json()) as {
      chainId: string;
      genesisHash: string;
    };
    const byz = await CorruptSnapshotPeer.start({
      chainId: info.chainId,
      genesisHash: info.genesisHash,
      sourceAddress: cluster.p2pAddress(SOURCE),
    });
    try {
      // Wait for node 0's first snapshot (height 10, written in the background).
      const deadline = Date.now() + 180_000;
      while ((await apis[SOURCE]!.tipHeight().catch(() => 0)) < 12 && Date.now() < deadline)
        await sleep(1_000);
      await sleep(3_000);
      report.log('note', `corrupting peer ${byz.peerId.slice(-8)} relays node0's snapshots`);

      // The joiner: the network's genesis, never started; state sync from two offering peers.
      const joiner = cluster.node(JOINER);
      joiner.args = ['--state-sync', '--state-sync-peers', '2'];
      cluster.start(JOINER);
      report.log(
        'fault',
        `node${JOINER} started with --state-sync (needs 2 peers offering one snapshot)`,
      );
      await byz.dial(cluster.p2pAddress(JOINER));
      report.log('note', `corrupting peer connected to node${JOINER}`);

      // The sync ends when the joiner's API answers (the API starts after it).
      await awaitProgress(apis, report, recoveryBoundMs, 'state sync', [JOINER]);
      const log = readFileSync(joiner.logPath, 'utf8');
      const lines = log.split('\n').filter((l) => l.startsWith('{'));
      const misbehaved = lines
        .map((l) => JSON.parse(l) as { event?: string; peer?: string; code?: string })
        .filter((e) => e.event === 'snapshot-peer-misbehaved');
      const synced = /state sync complete/.test(log);
      report.check(
        'the corrupting peer served bad chunks',
        byz.corrupted.length > 0,
        `${byz.corrupted.length} corrupted chunk(s) served: ${byz.corrupted
          .slice(0, 6)
          .map((c) => `${c.height}#${c.index}`)
          .join(', ')}`,
      );
      report.check(
        'the new node blamed that peer, and only it',
        misbehaved.length === 1 &&
          misbehaved[0]!.peer === byz.peerId &&
          misbehaved[0]!.code === 'SNAPSHOT_CHUNK_HASH',
        misbehaved.length === 0
          ? 'no snapshot-peer-misbehaved in its log'
          : misbehaved.map((e) => `${e.peer?.slice(-8)} ${e.code}`).join('; '),
      );
      report.check(
        'state sync finished from the honest peer',
        synced,
        synced ? '"state sync complete" in its log' : 'no "state sync complete" in its log',
      );
      const earliest = await apis[JOINER]!.earliestHeight().catch(() => -1);
      report.check(
        'the new node began at the snapshot',
        earliest >= 10 && earliest % 10 === 0,
        `its earliest height is ${earliest}`,
      );
      report.check(
        'the new node dropped the corrupting peer',
        !byz.connectedTo(peerIdOf(cluster.p2pAddress(JOINER))),
        byz.connectedTo(peerIdOf(cluster.p2pAddress(JOINER)))
          ? 'still connected'
          : 'connection closed',
      );
    } finally {
      await byz.close();
    }
  },
};
