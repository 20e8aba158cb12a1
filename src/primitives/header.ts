import { Tag, taggedHash } from '../crypto/index.ts';
import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';
import { HASH_SIZE, PUBKEY_SIZE } from './limits.ts';

export interface HeaderFields {
  readonly version: number;
  readonly height: number;
  /** Milliseconds since the Unix epoch, set by the proposer. */
  readonly time: number;
  readonly prevHash: Uint8Array;
  /** Merkle root of the block's wtxids. */
  readonly txRoot: Uint8Array;
  /** MuHash3072 digest of the whole UTXO set after this block. */
  readonly utxoRoot: Uint8Array;
  /** Root of the state store (validator registry, later contracts) after this block. */
  readonly stateRoot: Uint8Array;
  /** Hash of the validator set that must commit this block. */
  readonly validatorSetHash: Uint8Array;
  /** Hash of the validator set that must commit the next block (changes of H take effect at H+2). */
  readonly nextValidatorSetHash: Uint8Array;
  /** Hash of the parent's commit certificate carried in this block. */
  readonly lastCommitHash: Uint8Array;
  /** Merkle root of the duplicate-vote evidence the block carries (all zero when none). */
  readonly evidenceRoot: Uint8Array;
  readonly proposer: Uint8Array;
}

/**
 * Version 2 added nextValidatorSetHash, version 3 evidenceRoot
 * (docs/protocol.md); older headers are refused.
 */
export const HEADER_VERSION = 3;
export const HEADER_SIZE = 4 + 4 + 8 + HASH_SIZE * 8 + PUBKEY_SIZE;

export class Header implements HeaderFields {
  readonly version: number;
  readonly height: number;
  readonly time: number;
  readonly prevHash: Uint8Array;
  readonly txRoot: Uint8Array;
  readonly utxoRoot: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly validatorSetHash: Uint8Array;
  readonly nextValidatorSetHash: Uint8Array;
  readonly lastCommitHash: Uint8Array;
  readonly evidenceRoot: Uint8Array;
  readonly proposer: Uint8Array;
  private cachedHash: Uint8Array | undefined;

  constructor(fields: HeaderFields) {
    this.version = fields.version;
    this.height = fields.height;
    this.time = fields.time;
    this.prevHash = fields.prevHash;
    this.txRoot = fields.txRoot;
    this.utxoRoot = fields.utxoRoot;
    this.stateRoot = fields.stateRoot;
    this.validatorSetHash = fields.validatorSetHash;
    this.nextValidatorSetHash = fields.nextValidatorSetHash;
    this.lastCommitHash = fields.lastCommitHash;
    this.evidenceRoot = fields.evidenceRoot;
    this.proposer = fields.proposer;
  }

  get hash(): Uint8Array {
    this.cachedHash ??= taggedHash(Tag.blockHash, this.encode());
    return this.cachedHash;
  }

  encode(): Uint8Array {
    const w = new Writer(HEADER_SIZE);
    this.write(w);
    return w.finish();
  }

  write(w: Writer): void {
    w.u32(this.version).u32(this.height).u64(BigInt(this.time));
    w.bytes(this.prevHash).bytes(this.txRoot).bytes(this.utxoRoot).bytes(this.stateRoot);
    w.bytes(this.validatorSetHash).bytes(this.nextValidatorSetHash);
    w.bytes(this.lastCommitHash).bytes(this.evidenceRoot).bytes(this.proposer);
  }

  static decode(bytes: Uint8Array): Header {
    return decodeExact(bytes, 'header', readHeader);
  }
}

export function readHeader(r: Reader): Header {
  const version = r.u32('header.version');
  if (version !== HEADER_VERSION) {
    throw new DecodeError('invalid-value', r.what, { field: 'header.version', value: version });
  }
  const height = r.u32('header.height');
  const time = r.u64('header.time');
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DecodeError('out-of-range', r.what, { field: 'header.time' });
  }
  return new Header({
    version,
    height,
    time: Number(time),
    prevHash: r.bytes(HASH_SIZE, 'header.prevHash'),
    txRoot: r.bytes(HASH_SIZE, 'header.txRoot'),
    utxoRoot: r.bytes(HASH_SIZE, 'header.utxoRoot'),
    stateRoot: r.bytes(HASH_SIZE, 'header.stateRoot'),
    validatorSetHash: r.bytes(HASH_SIZE, 'header.validatorSetHash'),
    nextValidatorSetHash: r.bytes(HASH_SIZE, 'header.nextValidatorSetHash'),
    lastCommitHash: r.bytes(HASH_SIZE, 'header.lastCommitHash'),
    evidenceRoot: r.bytes(HASH_SIZE, 'header.evidenceRoot'),
    proposer: r.bytes(PUBKEY_SIZE, 'header.proposer'),
  });
}
