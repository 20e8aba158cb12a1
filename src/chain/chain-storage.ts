import { decodeSet, encodeSet, toValidatorSet, type ValidatorSet } from '../consensus/index.ts';
import { MuHash3072 } from '../crypto/index.ts';
import type { Header } from '../primitives/index.ts';
import { Block, CommitCertificate, decodeCoin, outpointKey } from '../primitives/index.ts';
import { StateOverlay, type StateReader, type StateStore } from '../state/index.ts';
import type { BatchOp, Database } from '../storage/index.ts';
import {
  Bucket,
  bucketKey,
  DatabaseError,
  heightKey,
  metaKey,
  SCHEMA_VERSION,
  schemaVersionOp,
} from '../storage/index.ts';
import { asError, bytesEqual, bytesKey } from '../util/index.ts';
import { addressIndexOps } from './address-index.ts';
import { type ConnectPlan, type TipState, validatorSetAt } from './block-verifier.ts';
import { ChainStore } from './chain-store.ts';
import { type Genesis, writeGenesisState } from './genesis.ts';
import { decodeTip, encodeTip, type SpentCoin } from './records.ts';
import { createdCoins } from './utxo-changes.ts';
import { UtxoSet } from './utxo-set.ts';

/** Lock hashes of the coins each transaction of `block` spent, from the block and its undo data. */
export function spentLocksOf(block: Block, undo: readonly SpentCoin[]): Uint8Array[][] {
  const locks = new Map<string, Uint8Array>();
  for (const s of undo) locks.set(bytesKey(s.key), decodeCoin(s.coin).lock.hash);
  for (const tx of block.txs) {
    tx.outputs.forEach((output, index) => {
      locks.set(bytesKey(outpointKey({ txid: tx.txid, index })), output.lock.hash);
    });
  }
  return block.txs.map((tx) =>
    tx.inputs.map((input) => locks.get(bytesKey(outpointKey(input.prevout)))!),
  );
}

/**
 * The one batch that commits a block: its coins (spent removed, created
 * added), address index, block, height index, undo data, commit, tx index,
 * a checkpoint every `checkpointInterval` blocks, and the new tip. Connect
 * and the genesis write both use it.
 */
export function blockWriteOps(
  store: ChainStore,
  plan: Pick<ConnectPlan, 'block' | 'commit' | 'spent' | 'created' | 'spentByTx' | 'utxoState'>,
  checkpointInterval: number,
): BatchOp[] {
  const { block, commit, spent, created } = plan;
  const height = block.height;
  const ops: BatchOp[] = UtxoSet.batchOps(
    spent.map((s) => s.key),
    created,
  );
  const spentLocks = plan.spentByTx.map((coins) => coins.map((c) => c.lock.hash));
  ops.push(...addressIndexOps(block, { spent, created }, spentLocks));
  ops.push(
    store.blocks.putOp(block.hash, block),
    store.hashes.putOp(height, block.hash),
    store.undo.putOp(height, spent),
    store.commits.putOp(height, commit),
  );
  block.txs.forEach((tx, index) => {
    ops.push(store.txIndex.putOp(tx.txid, { height, index }));
  });
  const utxoState = plan.utxoState.serialize();
  if (height % checkpointInterval === 0) {
    const checkpoint = { height, hash: block.hash, utxoRoot: block.header.utxoRoot, utxoState };
    ops.push(store.checkpoints.putOp(height, checkpoint));
  }
  ops.push({
    type: 'put',
    key: metaKey('tip'),
    value: encodeTip({ height, hash: block.hash, utxoState }),
  });
  return ops;
}

/** A new database: the schema and genesis markers, and the genesis block committed like any other. */
export async function writeGenesis(
  db: Database,
  block: Block,
  utxoState: MuHash3072,
  genesis: Genesis,
  state: StateStore,
): Promise<void> {
  const checkpointInterval = genesis.params.checkpointInterval;
  const overlay = new StateOverlay(state);
  await writeGenesisState(overlay, genesis);
  const update = await state.prepare(overlay, 0);
  if (!bytesEqual(update.root, block.header.stateRoot))
    throw new RangeError('the genesis state does not give the genesis stateRoot');
  const ops = blockWriteOps(
    new ChainStore(db),
    {
      block,
      commit: CommitCertificate.empty(block.hash),
      spent: [],
      created: createdCoins(block.txs, 0),
      spentByTx: block.txs.map(() => []),
      utxoState,
    },
    checkpointInterval,
  );
  ops.unshift(schemaVersionOp(SCHEMA_VERSION), {
    type: 'put',
    key: metaKey('genesis'),
    value: block.hash,
  });
  ops.push(...update.ops, {
    type: 'put',
    key: setHistoryKey(1),
    value: encodeHistorySet(genesis.validators),
  });
  await db.write(ops);
  state.applyCommitted(update);
}

/**
 * The set history of a chain that starts at `height` from a snapshot, read
 * from its state (which holds the sets of height .. height + 2): the first
 * entry stands at 1, as the chain's loader expects, and carries the set that
 * signed `height`; later ones only where the set changes.
 */
export async function baseSetHistoryOps(state: StateReader, height: number): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  let previous: ValidatorSet | null = null;
  for (const h of [height, height + 1, height + 2]) {
    const set = await validatorSetAt(state, h);
    if (previous !== null && bytesEqual(previous.hash, set.hash)) continue;
    ops.push({
      type: 'put',
      key: setHistoryKey(previous === null ? 1 : h),
      value: encodeHistorySet(set),
    });
    previous = set;
  }
  return ops;
}

/** Node-local index of validator-set changes: its own bucket, height u32 BE. */
export function setHistoryKey(height: number): Uint8Array {
  return heightKey(Bucket.validatorSetHistory, height);
}

export function encodeHistorySet(set: ValidatorSet): Uint8Array {
  return encodeSet(
    set.validators.map((v) => ({
      consensusKey: v.publicKey,
      power: v.power,
      validatorId: new Uint8Array(32),
    })),
  );
}

export async function loadSetHistory(
  db: Database,
): Promise<{ height: number; set: ValidatorSet }[]> {
  const from = Uint8Array.of(Bucket.validatorSetHistory);
  const to = Uint8Array.of(Bucket.validatorSetHistory + 1);
  const history: { height: number; set: ValidatorSet }[] = [];
  for await (const [key, value] of db.range(from, to)) {
    const height = new DataView(key.buffer, key.byteOffset + key.length - 4, 4).getUint32(0, false);
    history.push({ height, set: toValidatorSet(decodeSet(value)) });
  }
  if (history.length === 0 || history[0]!.height !== 1) {
    throw new DatabaseError(
      'DB_CORRUPT',
      db.path,
      `database ${db.path} has no validator set history`,
    );
  }
  return history;
}

/**
 * Reads and cross-checks the tip: the record's checksum, the block it names,
 * and the UTXO commitment, so a damaged database is reported, not used.
 */
export async function loadTip(db: Database): Promise<{ state: TipState; header: Header }> {
  const corrupt = (what: string, cause?: unknown) =>
    new DatabaseError('DB_CORRUPT', db.path, `database ${db.path} is corrupted: ${what}`, cause);
  const tipBytes = await db.get(metaKey('tip'));
  if (tipBytes === undefined) throw corrupt('the tip record is missing');
  let tip: ReturnType<typeof decodeTip>;
  let utxoState: MuHash3072;
  try {
    tip = decodeTip(tipBytes);
    utxoState = MuHash3072.deserialize(tip.utxoState);
  } catch (error) {
    throw corrupt(`the tip record is damaged (${asError(error).message})`, error);
  }
  const indexed = await db.get(heightKey(Bucket.heightIndex, tip.height));
  if (indexed === undefined || !bytesEqual(indexed, tip.hash))
    throw corrupt(`the height index disagrees with the tip at ${tip.height}`);
  const blockBytes = await db.get(bucketKey(Bucket.block, tip.hash));
  if (blockBytes === undefined) throw corrupt(`the tip block ${tip.height} is missing`);
  let block: Block;
  try {
    block = Block.decode(blockBytes);
  } catch (error) {
    throw corrupt(`the tip block ${tip.height} does not decode (${asError(error).message})`, error);
  }
  if (!bytesEqual(block.hash, tip.hash))
    throw corrupt(`the tip block ${tip.height} does not match its hash`);
  if (!bytesEqual(utxoState.finalize(), block.header.utxoRoot)) {
    throw corrupt(`the UTXO state does not match the commitment of block ${tip.height}`);
  }
  return {
    state: { height: tip.height, hash: tip.hash, time: block.header.time, utxoState },
    header: block.header,
  };
}
