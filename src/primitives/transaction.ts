import { Tag, taggedHash } from '../crypto/index.ts';
import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';
import { isValidAmount } from './amount.ts';
import {
  MAX_PAYLOAD_BYTES,
  MAX_TX_BYTES,
  MAX_TX_INPUTS,
  MAX_TX_OUTPUTS,
  PUBKEY_SIZE,
  SIGNATURE_SIZE,
} from './limits.ts';
import { type Lock, readLock, writeLock } from './lock.ts';
import { type Outpoint, readOutpoint, writeOutpoint } from './outpoint.ts';

export interface TxInput {
  readonly prevout: Outpoint;
}

export interface TxOutput {
  readonly amount: bigint;
  readonly lock: Lock;
}

/** The proof that spends an input: a compressed key and a compact low-S signature. */
export interface Witness {
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** Application data a later protocol version interprets (contracts); opaque here. */
export interface TxPayload {
  readonly type: number;
  readonly data: Uint8Array;
}

export interface TxFields {
  readonly version: number;
  readonly inputs: readonly TxInput[];
  readonly outputs: readonly TxOutput[];
  /** The transaction may only be included in a block at a height >= lockTime. */
  readonly lockTime: number;
  readonly payload: TxPayload | null;
  /** One per input, in input order; empty for a coinbase. */
  readonly witnesses: readonly Witness[];
}

export const TX_VERSION = 1;

/**
 * An immutable transaction. `txid` hashes everything but the witnesses, so a
 * third party cannot change a transaction's id by re-encoding its signatures;
 * `wtxid` covers the witnesses too and is what blocks commit to.
 */
export class Transaction implements TxFields {
  readonly version: number;
  readonly inputs: readonly TxInput[];
  readonly outputs: readonly TxOutput[];
  readonly lockTime: number;
  readonly payload: TxPayload | null;
  readonly witnesses: readonly Witness[];
  private cachedTxid: Uint8Array | undefined;
  private cachedWtxid: Uint8Array | undefined;
  private cachedBytes: Uint8Array | undefined;

  /** `encoded`, when given, must be this transaction's canonical encoding. */
  constructor(fields: TxFields, encoded?: Uint8Array) {
    this.cachedBytes = encoded;
    this.version = fields.version;
    this.inputs = fields.inputs;
    this.outputs = fields.outputs;
    this.lockTime = fields.lockTime;
    this.payload = fields.payload;
    this.witnesses = fields.witnesses;
  }

  /** A coinbase has no inputs; it is the first transaction of each block. */
  get isCoinbase(): boolean {
    return this.inputs.length === 0;
  }

  get txid(): Uint8Array {
    this.cachedTxid ??= taggedHash(Tag.txid, this.encodeUnsigned());
    return this.cachedTxid;
  }

  get wtxid(): Uint8Array {
    this.cachedWtxid ??= taggedHash(Tag.wtxid, this.encode());
    return this.cachedWtxid;
  }

  /** Encoded size in bytes, witnesses included: what fee rates are computed on. */
  get size(): number {
    return this.encode().length;
  }

  encode(): Uint8Array {
    if (this.cachedBytes === undefined) {
      const w = new Writer(256);
      this.write(w);
      this.cachedBytes = w.finish();
    }
    return this.cachedBytes;
  }

  write(w: Writer): void {
    if (this.cachedBytes !== undefined) {
      w.bytes(this.cachedBytes);
      return;
    }
    writeUnsigned(w, this);
    for (const witness of this.witnesses) w.bytes(witness.publicKey).bytes(witness.signature);
  }

  encodeUnsigned(): Uint8Array {
    const w = new Writer(256);
    writeUnsigned(w, this);
    return w.finish();
  }

  withWitnesses(witnesses: readonly Witness[]): Transaction {
    const { version, inputs, outputs, lockTime, payload } = this;
    return new Transaction({ version, inputs, outputs, lockTime, payload, witnesses });
  }

  static decode(bytes: Uint8Array): Transaction {
    if (bytes.length > MAX_TX_BYTES) {
      throw new DecodeError('too-large', 'transaction', { size: bytes.length, max: MAX_TX_BYTES });
    }
    return decodeExact(bytes, 'transaction', readTransaction);
  }
}

function writeUnsigned(w: Writer, tx: TxFields): void {
  w.u32(tx.version);
  w.varint(tx.inputs.length);
  for (const input of tx.inputs) writeOutpoint(w, input.prevout);
  w.varint(tx.outputs.length);
  for (const output of tx.outputs) writeOutput(w, output);
  w.u32(tx.lockTime);
  if (tx.payload === null) {
    w.u8(0);
  } else {
    w.u8(1).varint(tx.payload.type).varBytes(tx.payload.data);
  }
}

export function writeOutput(w: Writer, output: TxOutput): void {
  w.u64(output.amount);
  writeLock(w, output.lock);
}

export function readOutput(r: Reader): TxOutput {
  const amount = r.u64('output.amount');
  if (!isValidAmount(amount)) {
    throw new DecodeError('out-of-range', r.what, {
      field: 'output.amount',
      value: amount.toString(),
    });
  }
  return { amount, lock: readLock(r) };
}

/** Reads one transaction from a larger structure (a block); caches its bytes. */
export function readTransaction(r: Reader): Transaction {
  const start = r.offset;
  const version = r.u32('tx.version');
  if (version !== TX_VERSION) {
    throw new DecodeError('invalid-value', r.what, { field: 'tx.version', value: version });
  }
  const inputCount = r.varint(MAX_TX_INPUTS, 'tx.inputs');
  const inputs: TxInput[] = [];
  for (let i = 0; i < inputCount; i++) inputs.push({ prevout: readOutpoint(r) });
  const outputCount = r.varint(MAX_TX_OUTPUTS, 'tx.outputs');
  const outputs: TxOutput[] = [];
  for (let i = 0; i < outputCount; i++) outputs.push(readOutput(r));
  const lockTime = r.u32('tx.lockTime');
  const payloadFlag = r.u8('tx.payload');
  let payload: TxPayload | null = null;
  if (payloadFlag === 1) {
    payload = {
      type: r.varint(0xffff, 'tx.payload.type'),
      data: r.varBytes(MAX_PAYLOAD_BYTES, 'tx.payload.data'),
    };
  } else if (payloadFlag !== 0) {
    throw new DecodeError('invalid-value', r.what, { field: 'tx.payload', value: payloadFlag });
  }
  const witnesses: Witness[] = [];
  for (let i = 0; i < inputCount; i++) {
    witnesses.push({
      publicKey: r.bytes(PUBKEY_SIZE, 'witness.publicKey'),
      signature: r.bytes(SIGNATURE_SIZE, 'witness.signature'),
    });
  }
  const size = r.offset - start;
  if (size > MAX_TX_BYTES) {
    throw new DecodeError('too-large', r.what, { field: 'tx', size, max: MAX_TX_BYTES });
  }
  return new Transaction(
    { version, inputs, outputs, lockTime, payload, witnesses },
    r.consumedSince(start),
  );
}
