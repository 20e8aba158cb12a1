import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tag, taggedHash } from '../crypto/index.ts';
import { DecodeError, decodeExact, Writer } from '../encoding/index.ts';
import { MAX_MONEY } from './amount.ts';
import { MAX_PAYLOAD_BYTES, MAX_TX_BYTES, MAX_TX_INPUTS, MAX_TX_OUTPUTS } from './limits.ts';
import { LockType } from './lock.ts';
import {
  readTransaction,
  Transaction,
  TX_VERSION,
  type TxFields,
  type TxOutput,
} from './transaction.ts';

/**
 * The transaction encoding byte for byte, and every decoding limit from both
 * sides. The round-trip properties in primitives.prop.test.ts cannot see a
 * limit moved by one or a field read in the wrong place when encoder and
 * decoder agree; these can (mutation testing, docs/testing.md).
 */

const hash = (byte: number) => new Uint8Array(32).fill(byte);
const lock = { type: LockType.pubkeyHash, hash: hash(0xaa) };
const output = (amount: bigint): TxOutput => ({ amount, lock });
const witness = (byte: number) => ({
  publicKey: new Uint8Array(33).fill(byte),
  signature: new Uint8Array(64).fill(byte + 1),
});

const FIELDS: TxFields = {
  version: TX_VERSION,
  inputs: [
    { prevout: { txid: hash(0x11), index: 7 } },
    { prevout: { txid: hash(0x22), index: 0 } },
  ],
  outputs: [output(5000n), output(MAX_MONEY)],
  lockTime: 0x01020304,
  payload: { type: 0x1234, data: Uint8Array.of(9, 8, 7) },
  witnesses: [witness(0x31), witness(0x41)],
};

/** The layout of docs/protocol.md, written field by field. */
function unsignedBytes(fields: TxFields): Uint8Array {
  const w = new Writer().u32(fields.version).varint(fields.inputs.length);
  for (const { prevout } of fields.inputs) w.bytes(prevout.txid).u32(prevout.index);
  w.varint(fields.outputs.length);
  for (const o of fields.outputs) w.u64(o.amount).u8(o.lock.type).bytes(o.lock.hash);
  w.u32(fields.lockTime);
  if (fields.payload === null) w.u8(0);
  else
    w.u8(1)
      .varint(fields.payload.type)
      .varint(fields.payload.data.length)
      .bytes(fields.payload.data);
  return w.finish();
}

function fullBytes(fields: TxFields): Uint8Array {
  const w = new Writer().bytes(unsignedBytes(fields));
  for (const x of fields.witnesses) w.bytes(x.publicKey).bytes(x.signature);
  return w.finish();
}

function decodeError(reason: string, field?: string): (e: unknown) => boolean {
  return (e: unknown) =>
    e instanceof DecodeError &&
    e.reason === reason &&
    (field === undefined || (e.details as { field?: string }).field === field);
}

/** A transaction with no inputs whose encoding is exactly `size` bytes (payload pads it). */
function txOfSize(size: number): Uint8Array {
  const outputs = Array.from({ length: Math.floor((size - 30_000) / 41) }, () => output(1n));
  let length = 1000;
  for (;;) {
    const bytes = fullBytes({
      ...FIELDS,
      inputs: [],
      witnesses: [],
      outputs,
      payload: { type: 1, data: new Uint8Array(length) },
    });
    if (bytes.length === size) return bytes;
    length += size - bytes.length;
  }
}

describe('transaction: encoding', () => {
  it('encodes every field in order, little-endian, witnesses last', () => {
    const tx = new Transaction(FIELDS);
    assert.deepEqual(tx.encodeUnsigned(), unsignedBytes(FIELDS));
    assert.deepEqual(tx.encode(), fullBytes(FIELDS));
    assert.equal(tx.size, fullBytes(FIELDS).length);
    const none = { ...FIELDS, payload: null };
    assert.deepEqual(new Transaction(none).encode(), fullBytes(none));
  });

  it('encodes once and returns the same bytes, built or decoded', () => {
    const tx = new Transaction(FIELDS);
    const bytes = tx.encode();
    assert.equal(tx.encode(), bytes);
    const decoded = Transaction.decode(bytes);
    assert.equal(decoded.encode(), decoded.encode());
  });

  it('hashes the unsigned bytes for txid and everything for wtxid', () => {
    const tx = new Transaction(FIELDS);
    assert.deepEqual(tx.txid, taggedHash(Tag.txid, unsignedBytes(FIELDS)));
    assert.deepEqual(tx.wtxid, taggedHash(Tag.wtxid, fullBytes(FIELDS)));
    const resigned = tx.withWitnesses([witness(0x51), witness(0x61)]);
    assert.deepEqual(resigned.txid, tx.txid);
    assert.notDeepEqual(resigned.wtxid, tx.wtxid);
    assert.deepEqual(resigned.outputs, tx.outputs);
    assert.equal(resigned.lockTime, tx.lockTime);
    assert.deepEqual(resigned.payload, tx.payload);
  });

  it('decodes to the same fields and keeps the exact bytes it was given', () => {
    const bytes = fullBytes(FIELDS);
    const tx = Transaction.decode(bytes);
    assert.equal(tx.version, TX_VERSION);
    assert.deepEqual(tx.inputs, FIELDS.inputs);
    assert.deepEqual(tx.outputs, FIELDS.outputs);
    assert.equal(tx.lockTime, 0x01020304);
    assert.deepEqual(tx.payload, FIELDS.payload);
    assert.deepEqual(tx.witnesses, FIELDS.witnesses);
    assert.deepEqual(tx.encode(), bytes);
    const w = new Writer().u8(0xee);
    tx.write(w);
    assert.deepEqual(w.finish(), Uint8Array.of(0xee, ...bytes));
    assert.equal(tx.isCoinbase, false);
    assert.equal(
      Transaction.decode(fullBytes({ ...FIELDS, inputs: [], witnesses: [] })).isCoinbase,
      true,
    );
  });

  it('reads one transaction out of a larger structure, stopping at its end', () => {
    const bytes = fullBytes(FIELDS);
    const [tx, next] = decodeExact(Uint8Array.of(...bytes, 0x5a), 'block', (r) => [
      readTransaction(r),
      r.u8(),
    ]);
    assert.deepEqual((tx as Transaction).encode(), bytes);
    assert.equal(next, 0x5a);
  });
});

describe('transaction: decoding limits', () => {
  it('accepts only version 1', () => {
    for (const version of [0, 2, 0xffff_ffff]) {
      assert.throws(
        () => Transaction.decode(fullBytes({ ...FIELDS, version })),
        decodeError('invalid-value', 'tx.version'),
      );
    }
  });

  it('accepts payload flags 0 and 1 only', () => {
    const bytes = fullBytes({ ...FIELDS, payload: null });
    const flagAt = unsignedBytes({ ...FIELDS, payload: null }).length - 1;
    for (const flag of [2, 0xff]) {
      const bad = bytes.slice();
      bad[flagAt] = flag;
      assert.throws(() => Transaction.decode(bad), decodeError('invalid-value', 'tx.payload'));
    }
  });

  it('bounds the payload type at 0xffff and its data at MAX_PAYLOAD_BYTES', () => {
    const withPayload = (type: number, length: number) =>
      fullBytes({ ...FIELDS, payload: { type, data: new Uint8Array(length) } });
    assert.equal(Transaction.decode(withPayload(0xffff, 0)).payload?.type, 0xffff);
    assert.throws(
      () => Transaction.decode(withPayload(0x1_0000, 0)),
      decodeError('too-large', 'tx.payload.type'),
    );
    assert.equal(
      Transaction.decode(withPayload(1, MAX_PAYLOAD_BYTES)).payload?.data.length,
      MAX_PAYLOAD_BYTES,
    );
    assert.throws(
      () => Transaction.decode(withPayload(1, MAX_PAYLOAD_BYTES + 1)),
      decodeError('too-large', 'tx.payload.data'),
    );
  });

  it('accepts an output of exactly MAX_MONEY and refuses one more', () => {
    assert.equal(Transaction.decode(fullBytes(FIELDS)).outputs[1]!.amount, MAX_MONEY);
    assert.throws(
      () => Transaction.decode(fullBytes({ ...FIELDS, outputs: [output(MAX_MONEY + 1n)] })),
      decodeError('out-of-range', 'output.amount'),
    );
  });

  it('bounds the input and output counts before reading them', () => {
    const inputs = (n: number) => new Writer().u32(TX_VERSION).varint(n).finish();
    const outputs = (n: number) => new Writer().u32(TX_VERSION).varint(0).varint(n).finish();
    // At the bound the count is accepted and the reader then runs out of bytes.
    assert.throws(() => Transaction.decode(inputs(MAX_TX_INPUTS)), decodeError('truncated'));
    assert.throws(
      () => Transaction.decode(inputs(MAX_TX_INPUTS + 1)),
      decodeError('too-large', 'tx.inputs'),
    );
    assert.throws(() => Transaction.decode(outputs(MAX_TX_OUTPUTS)), decodeError('truncated'));
    assert.throws(
      () => Transaction.decode(outputs(MAX_TX_OUTPUTS + 1)),
      decodeError('too-large', 'tx.outputs'),
    );
  });

  it('needs one witness per input', () => {
    const bytes = fullBytes(FIELDS);
    assert.throws(
      () => Transaction.decode(bytes.subarray(0, bytes.length - 97)),
      decodeError('truncated'),
    );
    assert.throws(
      () => Transaction.decode(Uint8Array.of(...bytes, 0)),
      decodeError('trailing-bytes'),
    );
  });

  it('accepts exactly MAX_TX_BYTES, alone or inside a block, and refuses one byte more', () => {
    const max = txOfSize(MAX_TX_BYTES);
    assert.equal(Transaction.decode(max).size, MAX_TX_BYTES);
    // Inside a block the transaction starts after other bytes: its own size counts, not its offset.
    const inBlock = (bytes: Uint8Array) => {
      const block = new Uint8Array(bytes.length + 3);
      block.set(Uint8Array.of(7, 7, 7));
      block.set(bytes, 3);
      return decodeExact(block, 'block', (r) => {
        r.bytes(3);
        return readTransaction(r);
      });
    };
    assert.equal(inBlock(max).size, MAX_TX_BYTES);
    const over = txOfSize(MAX_TX_BYTES + 1);
    assert.throws(() => Transaction.decode(over), decodeError('too-large'));
    assert.throws(() => inBlock(over), decodeError('too-large', 'tx'));
  });

  it('refuses an oversize blob on its length, before reading any field', () => {
    // Zeros would fail as version 0 if parsed; a valid maximal transaction
    // with one byte more would fail as trailing bytes.
    assert.throws(
      () => Transaction.decode(new Uint8Array(MAX_TX_BYTES + 1)),
      decodeError('too-large'),
    );
    const max = txOfSize(MAX_TX_BYTES);
    const padded = new Uint8Array(MAX_TX_BYTES + 1);
    padded.set(max);
    assert.throws(() => Transaction.decode(padded), decodeError('too-large'));
  });
});
