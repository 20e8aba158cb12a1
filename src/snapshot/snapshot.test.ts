import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildSourceChain, type SourceChain } from '../../test/support/sync-fixture.ts';
import { Chain } from '../chain/chain.ts';
import { verifyChain } from '../chain/verify-chain.ts';
import { SignatureChecker } from '../consensus/signatures.ts';
import { sha256 } from '../crypto/hash.ts';
import { silentLogger } from '../logger/index.ts';
import { decodeCoin, encodeCoin } from '../primitives/coin.ts';
import { CommitCertificate } from '../primitives/commit.ts';
import { Database } from '../storage/db.ts';
import { CoinHasher } from './coin-hasher.ts';
import { SnapshotError } from './errors.ts';
import {
  decodeChunk,
  decodeManifest,
  encodeChunk,
  encodeManifest,
  type Manifest,
} from './format.ts';
import { rebuildChain, stagingDirOf } from './rebuild.ts';
import { SnapshotStore } from './store.ts';
import { type TrustAnchor, verifyManifest } from './verify.ts';

describe('snapshots', () => {
  let source: SourceChain;
  let store: SnapshotStore;
  let work: string;
  let height: number;

  before(async () => {
    source = await buildSourceChain({ blocks: 12, txsPerBlock: 3 });
    work = mkdtempSync(join(tmpdir(), 'utxod-snap-'));
    store = new SnapshotStore({ dir: join(work, 'snapshots') });
    const view = source.t.db.readView();
    try {
      const created = await store.create(view, source.t.chain, { chunkBytes: 1024 });
      height = created.height;
      assert.ok(created.chunks > 1, `only ${created.chunks} chunk(s)`);
    } finally {
      await view.close();
    }
  });
  after(async () => {
    await source.t.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  const trust = (trusted: TrustAnchor | null = null) => ({
    chainIdHash: source.t.chain.chainIdHash,
    genesisValidators: source.t.chain.validators,
    trusted,
    verifier: source.t.verifier,
  });
  const load = async () => decodeManifest(await store.manifestBytes(height));
  const chunks = async (m: Manifest) =>
    Promise.all(m.chunkHashes.map((_, i) => store.chunk(height, i)));

  /** `hasher`: hash the coins in these (loaded) workers rather than on this thread. */
  async function rebuild(
    m: Manifest,
    served: Uint8Array[],
    name: string,
    hasher?: CoinHasher,
  ): Promise<string> {
    const chainDir = join(work, name, 'chain');
    await rebuildChain(
      { chainDir, concurrency: 3 },
      {
        manifest: m,
        genesisHash: source.t.chain.genesisHash,
        fetchChunk: async (i) => served[i]!,
        ...(hasher === undefined ? {} : { hasher }),
      },
    );
    return chainDir;
  }

  /** Two hashing workers, once loaded (else the calling thread would hash a snapshot this small). */
  async function loadedHasher(): Promise<CoinHasher> {
    const hasher = new CoinHasher(2);
    const deadline = Date.now() + 60_000;
    while (!hasher.workersReady() && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(hasher.workersReady(), 'hash workers started');
    return hasher;
  }

  /** A copy of the snapshot with one coin changed by `alter`, chunk hash fixed up to match. */
  async function withAlteredCoin(alter: (c: ReturnType<typeof decodeCoin>) => object) {
    const m = await load();
    const served = await chunks(m);
    const chunk = decodeChunk(served[0]!);
    const records = chunk.records.map((r, i) => {
      if (i !== 0 || r.kind !== 'coin') return r;
      return { ...r, coin: encodeCoin({ ...decodeCoin(r.coin), ...alter(decodeCoin(r.coin)) }) };
    });
    served[0] = encodeChunk(0, records);
    const hashes = [...m.chunkHashes];
    hashes[0] = sha256(served[0]);
    return { manifest: { ...m, chunkHashes: hashes }, served };
  }

  it('round trip: a chain rebuilt from a snapshot opens at its height and takes the next blocks', async () => {
    const m = await load();
    await verifyManifest(m, trust());
    const hasher = await loadedHasher();
    let chainDir: string;
    try {
      chainDir = await rebuild(m, await chunks(m), 'roundtrip', hasher);
    } finally {
      await hasher.close();
    }
    assert.equal(existsSync(stagingDirOf(chainDir)), false);
    const db = await Database.open({ path: chainDir, syncWrites: false });
    const signatures = new SignatureChecker({ verifier: source.t.verifier, cache: null });
    try {
      const chain = await Chain.init(
        { utxoCacheBytes: 1 << 20 },
        { db, genesis: source.genesis, signatures, logger: silentLogger() },
      );
      assert.equal(chain.tipHeight, height);
      assert.deepEqual(chain.tip.hash, m.blockHash);
      assert.equal(await chain.earliestHeight(), height);
      assert.equal(await chain.getBlockAt(height - 1), undefined);
      const coins = await chain.getCoins(source.coins.map((c) => c.outpoint));
      assert.ok(coins.every((c) => c !== undefined));
      // Blocks the source produces after the snapshot connect on top of it.
      await source.extend(2);
      for (let h = height + 1; h <= source.t.chain.tipHeight; h++) {
        const block = await source.t.chain.requireBlockAt(h);
        await chain.connectBlock(block, await source.t.chain.requireCommitAt(h), { now: null });
      }
      assert.deepEqual(chain.tip.hash, source.t.chain.tip.hash);
      const verified = await verifyChain(chain, { full: false, scanUtxos: true, signatures });
      assert.equal(verified.toHeight, source.t.chain.tipHeight);
    } finally {
      await db.close();
    }
  });

  for (const [field, alter] of [
    ['height', (c: { height: number }) => ({ height: c.height + 1 })],
    ['coinbase flag', (c: { coinbase: boolean }) => ({ coinbase: !c.coinbase })],
    ['amount', (c: { amount: bigint }) => ({ amount: c.amount + 1n })],
  ] as const) {
    it(`a coin whose ${field} was altered is rejected by the UTXO root (hashed inline and in workers)`, async () => {
      const { manifest, served } = await withAlteredCoin(alter as never);
      const name = `altered-${field.replace(' ', '-')}`;
      const hasher = await loadedHasher();
      try {
        for (const [dir, h] of [
          [name, undefined],
          [`${name}-workers`, hasher],
        ] as const) {
          await assert.rejects(rebuild(manifest, served, dir, h), (e) => {
            assert.ok(e instanceof SnapshotError);
            assert.equal(e.code, 'SNAPSHOT_UTXO_ROOT');
            return true;
          });
          assert.equal(existsSync(join(work, dir, 'chain')), false);
        }
      } finally {
        await hasher.close();
      }
    });
  }

  it('a chunk that is not the manifest’s is refused by its hash', async () => {
    const m = await load();
    const served = await chunks(m);
    served[1] = served[1]!.slice();
    served[1][20] = (served[1][20] ?? 0) ^ 1;
    await assert.rejects(rebuild(m, served, 'bad-chunk'), { code: 'SNAPSHOT_CHUNK_HASH' });
  });

  it('a manifest of another chain, or one not final, or not the trusted block is refused', async () => {
    const m = await load();
    await assert.rejects(verifyManifest({ ...m, chainIdHash: new Uint8Array(32) }, trust()), {
      code: 'SNAPSHOT_WRONG_CHAIN',
    });
    const sig = m.commit.signatures[0]!;
    const forged = new CommitCertificate({
      ...m.commit,
      signatures: [{ ...sig, signature: sig.signature.map((b, i) => (i === 5 ? b ^ 1 : b)) }],
    });
    await assert.rejects(verifyManifest({ ...m, commit: forged }, trust()), {
      code: 'SNAPSHOT_NOT_FINAL',
    });
    await assert.rejects(verifyManifest(m, trust({ height, hash: new Uint8Array(32) })), {
      code: 'SNAPSHOT_TRUST_MISMATCH',
    });
    await verifyManifest(m, trust({ height, hash: m.blockHash }));
  });

  it('decoding is strict: trailing bytes and unknown versions are refused', async () => {
    const bytes = await store.manifestBytes(height);
    assert.throws(() => decodeManifest(new Uint8Array([...bytes, 0])), {
      code: 'SNAPSHOT_MALFORMED',
    });
    const m = decodeManifest(bytes);
    assert.deepEqual(encodeManifest(m), bytes);
    const v2 = encodeManifest({ ...m, version: 2 });
    assert.throws(() => decodeManifest(v2), { code: 'SNAPSHOT_UNSUPPORTED_VERSION' });
    const chunk = await store.chunk(height, 0);
    assert.throws(() => decodeChunk(chunk.subarray(0, chunk.length - 1)), {
      code: 'SNAPSHOT_MALFORMED',
    });
  });

  it('lists snapshots and keeps only the newest N', async () => {
    await source.extend(1);
    const view = source.t.db.readView();
    try {
      await store.create(view, source.t.chain, { chunkBytes: 1024 });
    } finally {
      await view.close();
    }
    const list = await store.list();
    assert.equal(list.length, 2);
    assert.ok(list[0]!.height > list[1]!.height);
    assert.deepEqual(await store.prune(1), [list[1]!.height]);
    assert.deepEqual(await store.heights(), [list[0]!.height]);
    height = list[0]!.height;
  });

  it('records out of order, counts that disagree, or a state entry the state root does not cover are refused', async () => {
    const m = await load();
    const served = await chunks(m);
    const first = decodeChunk(served[0]!);
    const swapped = [first.records[1]!, first.records[0]!, ...first.records.slice(2)];
    const reordered = [...served];
    reordered[0] = encodeChunk(0, swapped);
    const hashes = [...m.chunkHashes];
    hashes[0] = sha256(reordered[0]);
    await assert.rejects(rebuild({ ...m, chunkHashes: hashes }, reordered, 'reordered'), {
      code: 'SNAPSHOT_BAD_CONTENT',
    });
    await assert.rejects(rebuild({ ...m, coinCount: m.coinCount + 1n }, served, 'miscounted'), {
      code: 'SNAPSHOT_BAD_CONTENT',
    });
    const last = served.length - 1;
    const withState = [...served];
    const lastChunk = decodeChunk(served[last]!);
    // One more state entry, after every real one (the last key with a byte appended):
    // well formed, but the header's state root does not cover it.
    const lastState = lastChunk.records.findLast((r) => r.kind === 'state');
    assert.ok(lastState !== undefined && lastState.kind === 'state', 'the snapshot holds state');
    const extraKey = Uint8Array.of(...lastState.key, 0xff);
    withState[last] = encodeChunk(last, [
      ...lastChunk.records,
      { kind: 'state', key: extraKey, value: Uint8Array.of(7) },
    ]);
    const stateHashes = [...m.chunkHashes];
    stateHashes[last] = sha256(withState[last]!);
    await assert.rejects(
      rebuild(
        { ...m, stateCount: m.stateCount + 1n, chunkHashes: stateHashes },
        withState,
        'stateful',
      ),
      { code: 'SNAPSHOT_STATE_ROOT' },
    );
  });

  it('a snapshot signed by another validator set is untrusted without an anchor', async () => {
    const m = await load();
    const { ValidatorSet } = await import('../consensus/validator-set.ts');
    const { testKey } = await import('../../test/support/chain-fixture.ts');
    const other = new ValidatorSet([{ publicKey: testKey(77).publicKey, power: 1n }]);
    await assert.rejects(verifyManifest(m, { ...trust(), genesisValidators: other }), {
      code: 'SNAPSHOT_UNTRUSTED',
    });
  });
});
