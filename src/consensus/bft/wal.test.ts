import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { crc32c } from './crc32c.ts';
import type { VoteMessage } from './messages.ts';
import { ConsensusWal, MAX_WAL_RECORD, WalCorruptError, type WalEntry } from './wal.ts';

const dir = mkdtempSync(join(tmpdir(), 'utxod-wal-'));
let n = 0;
const fresh = () => join(dir, `wal-${n++}`);

function vote(round: number, fill: number): VoteMessage {
  return {
    type: 1,
    height: 7,
    round,
    blockHash: new Uint8Array(32).fill(fill),
    validatorIndex: 2,
    signature: new Uint8Array(64).fill(fill),
  };
}

function write(path: string, entries: WalEntry[]): void {
  const { wal } = ConsensusWal.open({ path });
  for (const e of entries) wal.appendSync(e);
  wal.close();
}

describe('crc32c', () => {
  it('matches the standard check value', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  });
});

describe('consensus WAL', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('replays what follows the last end-height marker, buffered records after a sync', () => {
    const path = fresh();
    const { wal, replay } = ConsensusWal.open({ path });
    assert.deepEqual(replay, { endHeight: null, entries: [], truncatedTail: null });
    wal.appendSync({ kind: 'vote', vote: vote(0, 1) });
    wal.endHeight(6);
    wal.append({ kind: 'timeout', height: 7, round: 0, step: 'propose' });
    wal.appendSync({ kind: 'vote', vote: vote(1, 3) });
    wal.append({ kind: 'vote', vote: vote(1, 4) });
    wal.close();
    const again = ConsensusWal.open({ path });
    again.wal.close();
    assert.equal(again.replay.endHeight, 6);
    assert.deepEqual(again.replay.entries, [
      { kind: 'timeout', height: 7, round: 0, step: 'propose' },
      { kind: 'vote', vote: vote(1, 3) },
      { kind: 'vote', vote: vote(1, 4) },
    ]);
  });

  it('cuts off a record torn by a crash mid-write, and goes on', () => {
    const path = fresh();
    write(path, [
      { kind: 'vote', vote: vote(0, 1) },
      { kind: 'vote', vote: vote(1, 2) },
    ]);
    const full = readFileSync(path);
    const recordBytes = full.length / 2;
    writeFileSync(path, full.subarray(0, full.length - 10));
    const { wal, replay } = ConsensusWal.open({ path });
    assert.deepEqual(replay.entries, [{ kind: 'vote', vote: vote(0, 1) }]);
    assert.deepEqual(replay.truncatedTail, { offset: recordBytes, bytes: recordBytes - 10 });
    assert.equal(statSync(path).size, recordBytes, 'the torn bytes are gone from the file');
    wal.appendSync({ kind: 'vote', vote: vote(2, 5) });
    wal.close();
    assert.equal(ConsensusWal.open({ path }).replay.entries.length, 2);
  });

  it('cuts off a torn header too', () => {
    const path = fresh();
    write(path, [{ kind: 'vote', vote: vote(0, 1) }]);
    const full = readFileSync(path);
    writeFileSync(path, Buffer.concat([full, Buffer.from([0, 0, 0])]));
    const { wal, replay } = ConsensusWal.open({ path });
    wal.close();
    assert.deepEqual(replay.truncatedTail, { offset: full.length, bytes: 3 });
  });

  it('stops with the file and byte offset of a record that fails its checksum', () => {
    const path = fresh();
    write(path, [
      { kind: 'vote', vote: vote(0, 1) },
      { kind: 'vote', vote: vote(1, 2) },
      { kind: 'vote', vote: vote(2, 3) },
    ]);
    const bytes = readFileSync(path);
    const second = bytes.length / 3;
    bytes[second + 20] = bytes[second + 20]! ^ 0xff;
    writeFileSync(path, bytes);
    assert.throws(
      () => ConsensusWal.open({ path }),
      (e: unknown) =>
        e instanceof WalCorruptError &&
        e.details.offset === second &&
        e.message.includes(path) &&
        e.message.includes(`offset ${second}`),
    );
    // Also when it is the last record: complete but wrong is corruption, not a torn write.
    const last = readFileSync(path);
    last[second + 20] = last[second + 20]! ^ 0xff;
    last[2 * second + 30] = last[2 * second + 30]! ^ 0xff;
    writeFileSync(path, last);
    assert.throws(() => ConsensusWal.open({ path }), {
      code: 'WAL_CORRUPT',
      details: { path, offset: 2 * second, problem: 'checksum mismatch' },
    });
  });

  it('stops on an impossible record length and on a record that does not decode', () => {
    const path = fresh();
    write(path, [{ kind: 'vote', vote: vote(0, 1) }]);
    const good = readFileSync(path);
    const huge = Buffer.from(good);
    huge.writeUInt32LE(0x7fffffff, 0);
    writeFileSync(path, huge);
    assert.throws(() => ConsensusWal.open({ path }), {
      code: 'WAL_CORRUPT',
      details: {
        path,
        offset: 0,
        problem: `record length 2147483647 outside 1..${MAX_WAL_RECORD}`,
      },
    });
    const payload = Buffer.from([9, 1, 2, 3]);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32c(payload), 4);
    writeFileSync(path, Buffer.concat([good, header, payload]));
    assert.throws(
      () => ConsensusWal.open({ path }),
      (e: unknown) =>
        e instanceof WalCorruptError &&
        e.details.offset === good.length &&
        /undecodable/.test(e.message),
    );
  });

  it('starts a fresh file at an end-height marker once it is over its size limit', () => {
    const path = fresh();
    const { wal } = ConsensusWal.open({ path, maxFileBytes: 200 });
    for (let r = 0; r < 5; r++) wal.appendSync({ kind: 'vote', vote: vote(r, r + 1) });
    wal.endHeight(7);
    wal.append({ kind: 'timeout', height: 8, round: 0, step: 'commit' });
    wal.close();
    assert.ok(statSync(path).size < 100);
    const { wal: w2, replay } = ConsensusWal.open({ path });
    w2.close();
    assert.equal(replay.endHeight, 7);
    assert.deepEqual(replay.entries, [{ kind: 'timeout', height: 8, round: 0, step: 'commit' }]);
  });

  it('appendDurable writes at once, in call order, and resolves once synced', async () => {
    const path = fresh();
    const { wal } = ConsensusWal.open({ path });
    wal.append({ kind: 'timeout', height: 7, round: 0, step: 'propose' });
    const first = wal.appendDurable({ kind: 'vote', vote: vote(0, 1) });
    // Already in the file (page cache), before any await: order is the call order.
    const onDisk = ConsensusWal.open({ path });
    onDisk.wal.close();
    assert.deepEqual(onDisk.replay.entries, [
      { kind: 'timeout', height: 7, round: 0, step: 'propose' },
      { kind: 'vote', vote: vote(0, 1) },
    ]);
    await Promise.all([first, wal.appendDurable({ kind: 'vote', vote: vote(1, 2) })]);
    wal.close();
    assert.equal(ConsensusWal.open({ path }).replay.entries.length, 3);
  });

  it('does not swap the file while an own message is being synced', async () => {
    const path = fresh();
    const { wal } = ConsensusWal.open({ path, maxFileBytes: 200 });
    for (let r = 0; r < 5; r++) wal.appendSync({ kind: 'vote', vote: vote(r, r + 1) });
    const pending = wal.appendDurable({ kind: 'vote', vote: vote(5, 6) });
    wal.endHeight(7);
    await pending;
    assert.ok(statSync(path).size > 200, 'kept: a sync was pending on the old descriptor');
    wal.endHeight(8);
    wal.close();
    assert.ok(statSync(path).size < 100, 'rotated at the next height');
  });
});
