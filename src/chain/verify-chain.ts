import type { SignatureChecker } from '../consensus/index.ts';
import { VerificationError } from '../consensus/index.ts';
import { MuHash3072 } from '../crypto/index.ts';
import { outpointFromKey, utxoElement } from '../primitives/index.ts';
import { MemoryState } from '../state/index.ts';
import { DatabaseError } from '../storage/index.ts';
import { bytesEqual, bytesKey, toHex } from '../util/index.ts';
import { type BlockStateSource, planBlockConnect, type TipState } from './block-verifier.ts';
import type { Chain } from './chain.ts';
import { buildGenesisBlock, genesisState } from './genesis.ts';
import { createdCoins, revertUtxoChanges } from './utxo-changes.ts';
import type { CoinSource } from './utxo-set.ts';

export interface VerifyChainOptions {
  /** Replay from genesis instead of from the last checkpoint. */
  readonly full: boolean;
  /** Also recompute the UTXO commitment from every stored coin (O(UTXO set)). */
  readonly scanUtxos: boolean;
  /** Must not use a signature cache: every signature is checked again. */
  readonly signatures: SignatureChecker;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface VerifyChainResult {
  readonly fromHeight: number;
  readonly toHeight: number;
  readonly blocksVerified: number;
  readonly tipHash: string;
  readonly utxoRoot: string;
  readonly coinsScanned: number | null;
}

/** Coins as of some earlier height: `overlay` first (null = not unspent then), then `base`. */
class OverlayCoins implements CoinSource {
  readonly overlay = new Map<string, Uint8Array | null>();
  private readonly base: CoinSource | null;

  constructor(base: CoinSource | null) {
    this.base = base;
  }

  async getCoins(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    const result: Array<Uint8Array | undefined> = new Array(keys.length);
    const missing: number[] = [];
    keys.forEach((key, i) => {
      const hit = this.overlay.get(bytesKey(key));
      if (hit === undefined) missing.push(i);
      else result[i] = hit ?? undefined;
    });
    if (missing.length > 0 && this.base !== null) {
      const fetched = await this.base.getCoins(missing.map((i) => keys[i]!));
      missing.forEach((keyIndex, j) => {
        result[keyIndex] = fetched[j];
      });
    }
    return result;
  }
}

/**
 * Re-validates the stored chain. By default it starts from the last checkpoint
 * below the tip: the UTXO set there is reconstructed from the current set and
 * the undo data (and must hash to the checkpoint's commitment), then every
 * later block is validated again with all consensus rules and every signature,
 * so the work is O(blocks since the checkpoint). With `full`, from genesis.
 * Throws VerificationError or DatabaseError at the first mismatch.
 */
export async function verifyChain(
  chain: Chain,
  opts: VerifyChainOptions,
): Promise<VerifyChainResult> {
  const tipHeight = chain.tipHeight;
  // A chain that began from a snapshot has nothing below its earliest height:
  // both modes start at the checkpoint written there (snapshot/rebuild.ts).
  const earliest = await chain.earliestHeight();
  let start = opts.full && earliest === 0 ? null : await lastCheckpointBelow(chain, tipHeight);
  if (earliest > 0 && (start === null || start.height < earliest)) {
    start = (await chain.store.checkpoints.get(earliest)) ?? null;
    if (start === null)
      throw new DatabaseError(
        'DB_CORRUPT',
        '',
        `the checkpoint at the earliest height ${earliest} is missing`,
      );
  }
  let coins: OverlayCoins;
  let state: TipState;
  // The state store is replayed in memory, every root recomputed from
  // scratch: independent of the stored tree, which is checked at the end.
  let memory: MemoryState;
  if (start === null) {
    memory = await genesisState(chain.genesis);
    const { block, utxoState } = await buildGenesisBlock(chain.genesis);
    if (!bytesEqual(block.hash, chain.genesisHash))
      throw mismatch(0, 'genesis block differs from the genesis file');
    coins = new OverlayCoins(null);
    for (const c of createdCoins(block.txs, 0)) coins.overlay.set(bytesKey(c.key), c.coin);
    state = { height: 0, hash: block.hash, time: block.header.time, utxoState };
  } else {
    coins = new OverlayCoins(chain.utxos);
    state = await rewindTo(chain, start, coins);
    memory = await MemoryState.from(chain.state);
    for (let h = chain.state.height; h > start.height; h--) {
      memory.apply((await chain.state.changesAt(h)).map((c) => ({ key: c.key, value: c.old })));
    }
    const checkpointBlock = await chain.requireBlockAt(start.height);
    if (!bytesEqual(memory.root(), checkpointBlock.header.stateRoot)) {
      throw mismatch(start.height, 'state undo data does not rewind to the checkpoint stateRoot');
    }
  }
  let next: MemoryState | null = null;
  const stateSource: BlockStateSource = {
    get reader() {
      return memory;
    },
    prepare: async (overlay) => {
      const after = await MemoryState.from(memory);
      after.apply(overlay.changes());
      next = after;
      return { root: after.root(), update: null };
    },
  };

  const fromHeight = state.height;
  const total = tipHeight - fromHeight;
  for (let height = fromHeight + 1; height <= tipHeight; height++) {
    const block = await chain.requireBlockAt(height);
    const commit = await chain.requireCommitAt(height);
    const plan = await planBlockConnect(block, commit, {
      params: chain.params,
      chainIdHash: chain.chainIdHash,
      genesisHash: chain.genesisHash,
      state: stateSource,
      tip: state,
      coins,
      signatures: opts.signatures,
      now: null,
      contracts: chain.contracts,
      evidenceHistory: chain.evidenceHistory,
    });
    if (next === null) throw new RangeError('block validation prepared no state');
    memory = next;
    next = null;
    for (const s of plan.spent) coins.overlay.set(bytesKey(s.key), null);
    for (const c of plan.created) coins.overlay.set(bytesKey(c.key), c.coin);
    state = { height, hash: block.hash, time: block.header.time, utxoState: plan.utxoState };
    opts.onProgress?.(height - fromHeight, total);
  }

  const utxoRoot = state.utxoState.finalize();
  if (
    !bytesEqual(state.hash, chain.tip.hash) ||
    !bytesEqual(utxoRoot, chain.utxoStateAtTip().finalize())
  ) {
    throw mismatch(tipHeight, 'replayed chain does not end at the stored tip and UTXO state');
  }
  if (!bytesEqual(memory.root(), chain.state.root)) {
    throw mismatch(tipHeight, 'replayed state does not end at the stored state root');
  }
  // The stored tree itself: every node hashes to its reference, leaves = values.
  await chain.state.verify();
  let coinsScanned: number | null = null;
  if (opts.scanUtxos) {
    const scanned = await scanUtxoSet(chain);
    if (!bytesEqual(scanned.root, utxoRoot)) {
      throw mismatch(tipHeight, 'the stored coins do not hash to the UTXO commitment of the tip');
    }
    coinsScanned = scanned.count;
  }
  return {
    fromHeight,
    toHeight: tipHeight,
    blocksVerified: total,
    tipHash: toHex(state.hash),
    utxoRoot: toHex(utxoRoot),
    coinsScanned,
  };
}

async function lastCheckpointBelow(chain: Chain, tipHeight: number) {
  for await (const checkpoint of chain.checkpoints(Math.max(0, tipHeight - 1))) return checkpoint;
  return null;
}

/**
 * Walks undo data from the tip back to `checkpoint`, recording in `coins` the
 * UTXO set as it was there, and checks the rewound commitment against both the
 * checkpoint record and the checkpoint block's header.
 */
async function rewindTo(
  chain: Chain,
  checkpoint: { height: number; hash: Uint8Array; utxoRoot: Uint8Array; utxoState: Uint8Array },
  coins: OverlayCoins,
): Promise<TipState> {
  let state = chain.utxoStateAtTip();
  for (let height = chain.tipHeight; height > checkpoint.height; height--) {
    const block = await chain.requireBlockAt(height);
    const spent = await chain.store.undo.get(height);
    if (spent === undefined)
      throw new DatabaseError('DB_CORRUPT', '', `undo data of block ${height} is missing`);
    const created = createdCoins(block.txs, height);
    for (const c of created) coins.overlay.set(bytesKey(c.key), null);
    for (const s of spent) coins.overlay.set(bytesKey(s.key), s.coin);
    state = revertUtxoChanges(state, { spent, created });
  }
  const block = await chain.requireBlockAt(checkpoint.height);
  const root = state.finalize();
  if (!bytesEqual(block.hash, checkpoint.hash))
    throw mismatch(checkpoint.height, 'checkpoint hash differs from the stored block');
  if (!bytesEqual(root, checkpoint.utxoRoot) || !bytesEqual(root, block.header.utxoRoot)) {
    throw mismatch(
      checkpoint.height,
      'undo data does not rewind the UTXO set to the checkpoint commitment',
    );
  }
  if (!bytesEqual(MuHash3072.deserialize(checkpoint.utxoState).finalize(), root)) {
    throw mismatch(checkpoint.height, 'checkpoint UTXO state does not match its commitment');
  }
  return { height: checkpoint.height, hash: block.hash, time: block.header.time, utxoState: state };
}

async function scanUtxoSet(chain: Chain): Promise<{ root: Uint8Array; count: number }> {
  const state = new MuHash3072();
  let count = 0;
  for await (const [key, coin] of chain.store.coins.entries()) {
    state.insert(utxoElement(outpointFromKey(key), coin));
    count++;
  }
  return { root: state.finalize(), count };
}

function mismatch(height: number, what: string): VerificationError {
  return new VerificationError('BLOCK_CHECKPOINT_MISMATCH', `at height ${height}: ${what}`, {
    height,
  });
}
