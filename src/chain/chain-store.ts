/**
 * The chain's storage layout as typed repositories, one per bucket
 * (storage/buckets.ts). `Chain` builds its batches from their put/del ops and
 * reads through them; verification tools read the same repositories instead
 * of raw records.
 */
import { Block, CommitCertificate } from '../primitives/index.ts';
import {
  Bucket,
  bytesCodec,
  type DbController,
  heightCodec,
  Repository,
} from '../storage/index.ts';
import {
  type Checkpoint,
  decodeCheckpoint,
  decodeTxLocation,
  decodeUndo,
  encodeCheckpoint,
  encodeTxLocation,
  encodeUndo,
  type SpentCoin,
  type TxLocation,
} from './records.ts';

export class ChainStore {
  /** Block hash -> block. */
  readonly blocks: Repository<Uint8Array, Block>;
  /** Height -> block hash (the main chain). */
  readonly hashes: Repository<number, Uint8Array>;
  /** Height -> the coins the block spent (checksummed). */
  readonly undo: Repository<number, readonly SpentCoin[]>;
  /** Height -> the certificate that made the block final. */
  readonly commits: Repository<number, CommitCertificate>;
  /** Height -> UTXO-state checkpoint (checksummed). */
  readonly checkpoints: Repository<number, Checkpoint>;
  /** Txid -> where the transaction sits. */
  readonly txIndex: Repository<Uint8Array, TxLocation>;
  /** Outpoint key (36 bytes) -> encoded coin: the UTXO set on disk. */
  readonly coins: Repository<Uint8Array, Uint8Array>;

  constructor(db: DbController) {
    this.blocks = new Repository(Bucket.block, db, {
      key: bytesCodec,
      value: { encode: (b: Block) => b.encode(), decode: (bytes) => Block.decode(bytes) },
    });
    this.hashes = new Repository(Bucket.heightIndex, db, { key: heightCodec, value: bytesCodec });
    this.undo = new Repository(Bucket.undo, db, {
      key: heightCodec,
      value: { encode: encodeUndo, decode: decodeUndo },
    });
    this.commits = new Repository(Bucket.commit, db, {
      key: heightCodec,
      value: {
        encode: (c: CommitCertificate) => c.encode(),
        decode: (bytes) => CommitCertificate.decode(bytes),
      },
    });
    this.checkpoints = new Repository(Bucket.checkpoint, db, {
      key: heightCodec,
      value: { encode: encodeCheckpoint, decode: decodeCheckpoint },
    });
    this.txIndex = new Repository(Bucket.txIndex, db, {
      key: bytesCodec,
      value: { encode: encodeTxLocation, decode: decodeTxLocation },
    });
    this.coins = new Repository(Bucket.coin, db, { key: bytesCodec, value: bytesCodec });
  }
}
