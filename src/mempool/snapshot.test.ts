import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  MemoryChain,
  outputsOf,
  spend,
  TestKey,
  testMempool,
} from '../../test/support/mempool-fixture.ts';
import { sha256 } from '../crypto/hash.ts';
import { Writer } from '../encoding/writer.ts';
import { concatBytes } from '../util/bytes.ts';
import { MempoolSnapshotError, type SnapshotFault } from './errors.ts';
import { Mempool } from './mempool.ts';
import { SNAPSHOT_MAGIC, SNAPSHOT_VERSION } from './snapshot.ts';

const alice = new TestKey(1);
const bob = new TestKey(2);

/** A pool with a chain of two, an independent one, and distinct arrival times. */
async function populated() {
  const pool = testMempool();
  const { mempool, chain, clock } = pool;
  const parent = spend([chain.fund(alice, 100_000n)], 1000n);
  const child = spend([outputsOf(parent, alice)[0]!], 2000n);
  const loner = spend([chain.fund(bob, 100_000n)], 1500n);
  for (const tx of [parent, child, loner]) {
    await mempool.add(tx);
    clock.now += 1000;
  }
  return { ...pool, parent, child, loner };
}

function throwsFault(bytes: Uint8Array, fault: SnapshotFault): void {
  assert.throws(
    () => Mempool.decodeSnapshot(bytes),
    (error) => error instanceof MempoolSnapshotError && error.fault === fault,
  );
}

/** A body with a correct checksum, to reach the structural checks. */
function withChecksum(body: Uint8Array): Uint8Array {
  return concatBytes(body, sha256(body));
}

describe('mempool: snapshot', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'utxod-mempool-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips entries with their arrival times, parents first', async () => {
    const { mempool } = await populated();
    const decoded = Mempool.decodeSnapshot(mempool.encodeSnapshot());
    const expected = [...mempool.entries()];
    assert.equal(decoded.length, 3);
    decoded.forEach((entry, i) => {
      assert.equal(entry.time, expected[i]!.time);
      assert.deepEqual(entry.tx.encode(), expected[i]!.tx.encode());
    });
    const empty = testMempool().mempool;
    assert.deepEqual(Mempool.decodeSnapshot(empty.encodeSnapshot()), []);
  });

  it('saves atomically and reloads through admission, skipping what became invalid', async () => {
    const { mempool, chain, parent, child, loner } = await populated();
    const path = join(dir, 'mempool.dat');
    await mempool.saveTo(path);
    assert.deepEqual(new Uint8Array(await readFile(path)), mempool.encodeSnapshot());

    // Meanwhile a block confirmed the loner's input elsewhere.
    const shared = new MemoryChain();
    for (const [k, v] of chain.coins) shared.coins.set(k, v);
    shared.connect([
      spend([{ outpoint: loner.inputs[0]!.prevout, amount: 100_000n, key: bob }], 500n, {
        to: alice,
      }),
    ]);
    const fresh = testMempool({}, { chain: shared });
    const loaded = await fresh.mempool.loadFrom(path);
    assert.deepEqual(loaded, { found: true, accepted: 2, skipped: 1 });
    assert.ok(fresh.mempool.has(parent.txid) && fresh.mempool.has(child.txid));
    assert.equal(fresh.mempool.get(child.txid)!.time, mempool.get(child.txid)!.time);
    fresh.mempool.checkConsistency();

    assert.deepEqual(await fresh.mempool.loadFrom(join(dir, 'absent.dat')), {
      found: false,
      accepted: 0,
      skipped: 0,
    });
  });

  it('skips saved entries that are past the expiry', async () => {
    const { mempool, chain, clock } = await populated();
    const path = join(dir, 'old.dat');
    await mempool.saveTo(path);
    const fresh = testMempool({ expiryMs: 1500 }, { chain });
    fresh.clock.now = clock.now;
    // Times were start, +1 s, +2 s; now is +3 s: only the last is younger than 1.5 s.
    const loaded = await fresh.mempool.loadFrom(path);
    assert.deepEqual(loaded, { found: true, accepted: 1, skipped: 2 });
  });

  it('rejects every single-byte corruption and any truncation', async () => {
    const { mempool } = await populated();
    const bytes = mempool.encodeSnapshot();
    for (let i = 0; i < bytes.length; i++) {
      const corrupt = bytes.slice();
      corrupt[i] = corrupt[i]! ^ 0x40;
      assert.throws(() => Mempool.decodeSnapshot(corrupt), MempoolSnapshotError, `byte ${i}`);
    }
    for (const length of [0, 5, 43, bytes.length - 1]) {
      assert.throws(() => Mempool.decodeSnapshot(bytes.subarray(0, length)), MempoolSnapshotError);
    }
    throwsFault(concatBytes(bytes, new Uint8Array([0])), 'bad-checksum');
  });

  it('names the fault: magic, version, checksum, entries, trailing bytes', async () => {
    const { mempool } = await populated();
    const bytes = mempool.encodeSnapshot();
    const badMagic = bytes.slice();
    badMagic[0] = 0;
    throwsFault(badMagic, 'bad-magic');
    const badVersion = bytes.slice();
    badVersion[4] = SNAPSHOT_VERSION + 1;
    throwsFault(badVersion, 'bad-version');
    const badSum = bytes.slice();
    badSum[bytes.length - 1] = badSum[bytes.length - 1]! ^ 1;
    throwsFault(badSum, 'bad-checksum');
    throwsFault(new Uint8Array(10), 'truncated');

    const header = (count: number) =>
      new Writer().bytes(SNAPSHOT_MAGIC).u32(SNAPSHOT_VERSION).u32(count);
    // Claims one entry, holds none.
    throwsFault(withChecksum(header(1).finish()), 'bad-entry');
    // An entry whose transaction bytes do not decode.
    throwsFault(
      withChecksum(
        header(1)
          .u64(1n)
          .varBytes(new Uint8Array([1, 2, 3]))
          .finish(),
      ),
      'bad-entry',
    );
    // A time that is not a safe integer.
    const tx = mempool.entries().next().value!.tx.encode();
    throwsFault(
      withChecksum(
        header(1)
          .u64(1n << 60n)
          .varBytes(tx)
          .finish(),
      ),
      'bad-entry',
    );
    // Valid entries followed by bytes the count does not cover.
    throwsFault(withChecksum(header(1).u64(1n).varBytes(tx).u8(0).finish()), 'trailing-bytes');
    assert.equal(
      Mempool.decodeSnapshot(withChecksum(header(1).u64(1n).varBytes(tx).finish())).length,
      1,
    );
  });

  it('reports a corrupt file through loadFrom with a typed error', async () => {
    const { mempool } = await populated();
    const path = join(dir, 'corrupt.dat');
    const bytes = mempool.encodeSnapshot();
    bytes[20] = bytes[20]! ^ 1;
    await writeFile(path, bytes);
    await assert.rejects(testMempool().mempool.loadFrom(path), MempoolSnapshotError);
  });
});
