import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';
import { type CommitCertificate, readCommit } from './commit.ts';
import {
  type DuplicateVoteEvidence,
  evidenceRoot,
  readEvidenceList,
  writeEvidence,
} from './evidence.ts';
import { type Header, readHeader } from './header.ts';
import { MAX_BLOCK_BYTES, MAX_BLOCK_TXS } from './limits.ts';
import { merkleRoot } from './merkle.ts';
import { readTransaction, type Transaction } from './transaction.ts';

const NO_EVIDENCE: readonly DuplicateVoteEvidence[] = Object.freeze([]);

export class Block {
  readonly header: Header;
  /** The commit certificate of the parent block. */
  readonly lastCommit: CommitCertificate;
  readonly txs: readonly Transaction[];
  /** Duplicate-vote evidence committed by this block (header.evidenceRoot). */
  readonly evidence: readonly DuplicateVoteEvidence[];
  private cachedBytes: Uint8Array | undefined;

  constructor(
    header: Header,
    lastCommit: CommitCertificate,
    txs: readonly Transaction[],
    evidence: readonly DuplicateVoteEvidence[] = NO_EVIDENCE,
    encoded?: Uint8Array,
  ) {
    this.header = header;
    this.lastCommit = lastCommit;
    this.txs = txs;
    this.evidence = evidence;
    this.cachedBytes = encoded;
  }

  get hash(): Uint8Array {
    return this.header.hash;
  }

  get height(): number {
    return this.header.height;
  }

  get size(): number {
    return this.encode().length;
  }

  /** Merkle root of this block's wtxids: what the header's txRoot must equal. */
  computeTxRoot(): Uint8Array {
    return merkleRoot(this.txs.map((tx) => tx.wtxid));
  }

  /** Merkle root of this block's evidence: what the header's evidenceRoot must equal. */
  computeEvidenceRoot(): Uint8Array {
    return evidenceRoot(this.evidence);
  }

  encode(): Uint8Array {
    if (this.cachedBytes === undefined) {
      const w = new Writer(1024);
      this.header.write(w);
      this.lastCommit.write(w);
      w.varint(this.txs.length);
      for (const tx of this.txs) tx.write(w);
      w.varint(this.evidence.length);
      for (const e of this.evidence) writeEvidence(w, e);
      this.cachedBytes = w.finish();
    }
    return this.cachedBytes;
  }

  static decode(bytes: Uint8Array): Block {
    if (bytes.length > MAX_BLOCK_BYTES) {
      throw new DecodeError('too-large', 'block', { size: bytes.length, max: MAX_BLOCK_BYTES });
    }
    const block = decodeExact(bytes, 'block', readBlock);
    block.cachedBytes = bytes;
    return block;
  }
}

function readBlock(r: Reader): Block {
  const header = readHeader(r);
  const lastCommit = readCommit(r);
  const count = r.varint(MAX_BLOCK_TXS, 'block.txs');
  const txs: Transaction[] = [];
  for (let i = 0; i < count; i++) txs.push(readTransaction(r));
  const evidence = readEvidenceList(r);
  return new Block(header, lastCommit, txs, evidence);
}
