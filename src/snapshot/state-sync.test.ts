import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { captureLogger } from '../../test/support/capture-logger.ts';
import { buildSourceChain, type SourceChain } from '../../test/support/sync-fixture.ts';
import { Chain } from '../chain/chain.ts';
import { SignatureChecker } from '../consensus/signatures.ts';
import { sha256 } from '../crypto/hash.ts';
import { silentLogger } from '../logger/index.ts';
import { decodeCoin, encodeCoin } from '../primitives/coin.ts';
import { Database } from '../storage/db.ts';
import { bytesEqual } from '../util/bytes.ts';
import { decodeChunk, decodeManifest, encodeChunk, encodeManifest, manifestId } from './format.ts';
import { type SnapshotOffer, type SnapshotPeers, StateSync } from './state-sync.ts';
import { SnapshotStore } from './store.ts';

/** A snapshot of the real block whose chunks match its manifest but whose content the roots refuse. */
interface Forged {
  readonly peers: string[];
  readonly manifest: Uint8Array;
  readonly chunks: Uint8Array[];
}

async function forge(store: SnapshotStore, peers: string[]): Promise<Forged> {
  const [newest] = await store.list();
  const manifest = decodeManifest(await store.manifestBytes(newest!.height));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < manifest.chunkHashes.length; i++)
    chunks.push(await store.chunk(newest!.height, i));
  const first = decodeChunk(chunks[0]!);
  const records = first.records.map((r, i) => {
    if (i !== 0 || r.kind !== 'coin') return r;
    const coin = decodeCoin(r.coin);
    return { ...r, coin: encodeCoin({ ...coin, height: coin.height + 1 }) };
  });
  chunks[0] = encodeChunk(0, records);
  const chunkHashes = [...manifest.chunkHashes];
  chunkHashes[0] = sha256(chunks[0]);
  return { peers, manifest: encodeManifest({ ...manifest, chunkHashes }), chunks };
}

/** Peers serving one SnapshotStore; `corrupt` peers flip a byte of every chunk they serve. */
function memoryPeers(
  store: SnapshotStore,
  names: string[],
  behaviour: { corrupt?: string[]; silent?: string[]; forged?: Forged } = {},
) {
  const forges = (peer: string) => behaviour.forged?.peers.includes(peer) === true;
  const reports: Array<{ peer: string; penalty: number }> = [];
  const served = new Map<string, number>();
  const peers: SnapshotPeers = {
    peers: () => names,
    async offers(peer): Promise<SnapshotOffer[]> {
      const forged = behaviour.forged;
      if (forged !== undefined && forges(peer)) {
        const m = decodeManifest(forged.manifest);
        return [
          {
            height: m.height,
            blockHash: m.blockHash,
            id: manifestId(forged.manifest),
            chunks: forged.chunks.length,
          },
        ];
      }
      const out: SnapshotOffer[] = [];
      for (const height of await store.heights()) {
        const bytes = await store.manifestBytes(height);
        const info = await store.info(height);
        out.push({
          height,
          blockHash: Buffer.from(info.blockHash, 'hex'),
          id: manifestId(bytes),
          chunks: info.chunks,
        });
      }
      return out;
    },
    async manifest(peer, height) {
      if (behaviour.forged !== undefined && forges(peer)) return behaviour.forged.manifest;
      return store.manifestBytes(height);
    },
    async chunk(peer, height, _id, index) {
      if (behaviour.forged !== undefined && forges(peer)) return behaviour.forged.chunks[index]!;
      if (behaviour.silent?.includes(peer)) return new Promise<Uint8Array>(() => {});
      served.set(peer, (served.get(peer) ?? 0) + 1);
      const bytes = (await store.chunk(height, index)).slice();
      if (behaviour.corrupt?.includes(peer)) bytes[bytes.length - 1]! ^= 1;
      return bytes;
    },
    report(peer, penalty) {
      reports.push({ peer, penalty });
    },
  };
  return { peers, reports, served };
}

describe('state sync', () => {
  let source: SourceChain;
  let store: SnapshotStore;
  let work: string;

  before(async () => {
    source = await buildSourceChain({ blocks: 10, txsPerBlock: 4 });
    work = mkdtempSync(join(tmpdir(), 'utxod-statesync-'));
    store = new SnapshotStore({ dir: join(work, 'snapshots') });
    const view = source.t.db.readView();
    await store.create(view, source.t.chain, { chunkBytes: 1024 });
    await view.close();
  });
  after(async () => {
    await source.t.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  function sync(
    peers: SnapshotPeers,
    name: string,
    minPeers = 2,
    trusted: { height: number; hash: Uint8Array } | null = null,
  ) {
    const logger = captureLogger();
    const s = new StateSync(
      {
        chainDir: join(work, name, 'chain'),
        minPeers,
        concurrency: 4,
        chunkTimeoutMs: 300,
        chunkRounds: 3,
        discoverTimeoutMs: 2_000,
        trusted,
      },
      {
        peers,
        chainIdHash: source.t.chain.chainIdHash,
        genesisHash: source.t.chain.genesisHash,
        genesisValidators: source.t.chain.validators,
        verifier: source.t.verifier,
        logger: logger.logger,
      },
    );
    return { s, logger };
  }

  async function openRebuilt(name: string) {
    const db = await Database.open({ path: join(work, name, 'chain'), syncWrites: false });
    const chain = await Chain.init(
      { utxoCacheBytes: 1 << 20 },
      {
        db,
        genesis: source.genesis,
        signatures: new SignatureChecker({ verifier: source.t.verifier, cache: null }),
        logger: silentLogger(),
      },
    );
    return { db, chain };
  }

  it('a peer serving corrupted chunks is penalised and the sync completes from the others', async () => {
    const { peers, reports } = memoryPeers(store, ['a', 'b', 'c'], { corrupt: ['b'] });
    const { s, logger } = sync(peers, 'corrupt');
    const manifest = await s.run();
    assert.deepEqual(reports, [{ peer: 'b', penalty: 100 }]);
    assert.ok(
      logger.lines.some((l) => l['event'] === 'snapshot-peer-misbehaved' && l['peer'] === 'b'),
    );
    assert.equal(s.status().phase, 'done');
    assert.equal(s.status().chunksDone, manifest.chunkHashes.length);
    // Three offered it; the banned one no longer counts among those serving it.
    assert.equal(s.status().peers, 2);
    const { db, chain } = await openRebuilt('corrupt');
    try {
      assert.equal(chain.tipHeight, source.t.chain.tipHeight);
      assert.ok(bytesEqual(chain.tip.hash, source.t.chain.tip.hash));
    } finally {
      await db.close();
    }
  });

  it('a peer that never answers is timed out and others serve its chunks', async () => {
    const { peers, reports, served } = memoryPeers(store, ['a', 'b', 'c'], { silent: ['c'] });
    const { s } = sync(peers, 'silent', 3);
    await s.run();
    assert.deepEqual(reports, []);
    assert.ok((served.get('a') ?? 0) > 0 && (served.get('b') ?? 0) > 0);
  });

  it('a snapshot offered by fewer than minPeers peers is not taken', async () => {
    const { peers } = memoryPeers(store, ['a']);
    const { s } = sync(peers, 'lonely', 2);
    await assert.rejects(s.run(), { code: 'SNAPSHOT_LOCAL' });
  });

  it('with a trusted anchor only that block’s snapshot is taken, and no peer is blamed for newer ones', async () => {
    const [newest] = await store.list();
    const { peers, reports } = memoryPeers(store, ['a', 'b']);
    const wrongHash = new Uint8Array(32);
    const { s: refused } = sync(peers, 'trusted-miss', 2, {
      height: newest!.height,
      hash: wrongHash,
    });
    await assert.rejects(refused.run(), { code: 'SNAPSHOT_LOCAL' });
    assert.deepEqual(reports, []);
    const hash = Buffer.from(newest!.blockHash, 'hex');
    const { s } = sync(peers, 'trusted-hit', 2, { height: newest!.height, hash });
    const manifest = await s.run();
    assert.equal(manifest.height, newest!.height);
  });

  it('a snapshot whose content the roots refuse: its peers are penalised and the sync goes on with another', async () => {
    const forged = await forge(store, ['x', 'y']);
    // The forgers answer first, so their snapshot (same height) is the one tried first.
    const { peers, reports } = memoryPeers(store, ['x', 'y', 'a', 'b'], { forged });
    const { s, logger } = sync(peers, 'forged');
    const manifest = await s.run();
    assert.deepEqual(reports, [
      { peer: 'x', penalty: 100 },
      { peer: 'y', penalty: 100 },
    ]);
    assert.ok(
      logger.lines.some((l) => l.msg === 'state sync: snapshot failed; looking for another'),
    );
    assert.ok(!bytesEqual(manifestId(encodeManifest(manifest)), manifestId(forged.manifest)));
    assert.equal(s.status().phase, 'done');
    const { db, chain } = await openRebuilt('forged');
    try {
      assert.ok(bytesEqual(chain.tip.hash, source.t.chain.tip.hash));
    } finally {
      await db.close();
    }
  });
});
