/**
 * Wire messages shared by gossip and request/response. Same conventions as
 * docs/protocol.md: little-endian, CompactSize varints, strict decoding
 * (trailing bytes, non-minimal varints and oversize lengths are errors).
 * Every decoder checks the total length before reading anything.
 */
import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';
import {
  Block,
  CommitCertificate,
  HASH_SIZE,
  MAX_BLOCK_BYTES,
  MAX_COMMIT_SIGNATURES,
  readCommit,
} from '../primitives/index.ts';

/** Bumped on any incompatible change of a p2p message or protocol. */
/** 2: the status message carries the earliest height. */
export const P2P_PROTOCOL_VERSION = 2;
export const MAX_CHAIN_ID_BYTES = 64;

/** Largest encoded commit certificate. */
export const MAX_COMMIT_BYTES = 4 + 4 + 32 + 3 + MAX_COMMIT_SIGNATURES * (2 + 64);
/** Largest encoded block + commit message. */
export const MAX_BLOCK_MESSAGE_BYTES = 5 + MAX_BLOCK_BYTES + MAX_COMMIT_BYTES;

export function checkSize(bytes: Uint8Array, max: number, what: string): void {
  if (bytes.length > max) throw new DecodeError('too-large', what, { size: bytes.length, max });
}

/** The handshake: sent by both sides on connect, and on request. */
export interface StatusMessage {
  readonly protocolVersion: number;
  readonly chainId: string;
  readonly genesisHash: Uint8Array;
  readonly tipHeight: number;
  readonly tipHash: Uint8Array;
  /**
   * The lowest height whose block the node holds (0, or the snapshot height
   * it started from): peers do not ask it for blocks below. At most tipHeight.
   */
  readonly earliestHeight: number;
}

export const STATUS_MAX_BYTES = 4 + 1 + MAX_CHAIN_ID_BYTES + 32 + 4 + 32 + 4;

export function encodeStatus(status: StatusMessage): Uint8Array {
  const chainId = new TextEncoder().encode(status.chainId);
  return new Writer(STATUS_MAX_BYTES)
    .u32(status.protocolVersion)
    .varBytes(chainId)
    .bytes(status.genesisHash)
    .u32(status.tipHeight)
    .bytes(status.tipHash)
    .u32(status.earliestHeight)
    .finish();
}

export function decodeStatus(bytes: Uint8Array): StatusMessage {
  checkSize(bytes, STATUS_MAX_BYTES, 'status');
  return decodeExact(bytes, 'status', (r) => {
    const protocolVersion = r.u32('status.protocolVersion');
    const chainIdBytes = r.varBytes(MAX_CHAIN_ID_BYTES, 'status.chainId');
    let chainId: string;
    try {
      chainId = new TextDecoder('utf-8', { fatal: true }).decode(chainIdBytes);
    } catch {
      throw new DecodeError('invalid-value', r.what, { field: 'status.chainId' });
    }
    const genesisHash = r.bytes(HASH_SIZE, 'status.genesisHash');
    const tipHeight = r.u32('status.tipHeight');
    const tipHash = r.bytes(HASH_SIZE, 'status.tipHash');
    const earliestHeight = r.u32('status.earliestHeight');
    // A node holds its tip block, so history cannot start above it.
    if (earliestHeight > tipHeight)
      throw new DecodeError('invalid-value', r.what, { field: 'status.earliestHeight' });
    return { protocolVersion, chainId, genesisHash, tipHeight, tipHash, earliestHeight };
  });
}

/** A final block with the certificate that made it final (not the one it carries). */
export interface BlockWithCommit {
  readonly block: Block;
  readonly commit: CommitCertificate;
}

/** `varbytes block, commit`. The commit must certify this block. */
export function encodeBlockWithCommit(item: BlockWithCommit): Uint8Array {
  const block = item.block.encode();
  const w = new Writer(block.length + 64 + item.commit.signatures.length * 66);
  w.varBytes(block);
  item.commit.write(w);
  return w.finish();
}

export function decodeBlockWithCommit(bytes: Uint8Array): BlockWithCommit {
  checkSize(bytes, MAX_BLOCK_MESSAGE_BYTES, 'block message');
  return decodeExact(bytes, 'block message', readBlockWithCommit);
}

function readBlockWithCommit(r: Reader): BlockWithCommit {
  const block = Block.decode(r.varBytes(MAX_BLOCK_BYTES, 'block'));
  const commit = readCommit(r);
  if (commit.height !== block.height) {
    throw new DecodeError('invalid-value', r.what, { field: 'commit.height' });
  }
  const a = commit.blockHash;
  const b = block.hash;
  for (let i = 0; i < HASH_SIZE; i++) {
    if (a[i] !== b[i])
      throw new DecodeError('invalid-value', r.what, { field: 'commit.blockHash' });
  }
  return { block, commit };
}

export { CommitCertificate };
