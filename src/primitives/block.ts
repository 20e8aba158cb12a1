import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';
import { type CommitCertificate, readCommit } from './commit.ts';
import { type Header, readHeader } from './header.ts';
import { MAX_BLOCK_BYTES, MAX_BLOCK_TXS } from './limits.ts';
import { merkleRoot } from './merkle.ts';
import { readTransaction, type Transaction } from './transaction.ts';

export class Block {
  readonly header: Header;
  /** The commit certificate of the parent block. */
  readonly lastCommit: CommitCertificate;
  readonly txs: readonly Transaction[];
  private cachedBytes: Uint8Array | undefined;

  constructor(
    header: Header,
    lastCommit: CommitCertificate,
    txs: readonly Transaction[],
    encoded?: Uint8Array,
  ) {
    this.header = header;
    this.lastCommit = lastCommit;
    this.txs = txs;
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

  encode(): Uint8Array {
    if (this.cachedBytes === undefined) {
      const w = new Writer(1024);
      this.header.write(w);
      this.lastCommit.write(w);
      w.varint(this.txs.length);
      for (const tx of this.txs) tx.write(w);
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
  return new Block(header, lastCommit, txs);
}
