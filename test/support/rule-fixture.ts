/**
 * Consensus-rule tests: blocks and transactions built by hand, next to (not
 * through) the code under test. The block assembler shares the verifier's
 * UTXO helpers, so a block it builds cannot catch a rule both get wrong; the
 * builder here computes fees, the coinbase and the UTXO commitment on its
 * own, from the coins the chain reports, so deleting a rule's check makes
 * its test fail.
 */
import assert from 'node:assert/strict';
import type { Chain } from '../../src/chain/chain.ts';
import type { Genesis } from '../../src/chain/genesis.ts';
import { VerificationError } from '../../src/consensus/errors.ts';
import { blockSubsidy } from '../../src/consensus/params.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { SignatureCache } from '../../src/crypto/sig-cache.ts';
import { sign } from '../../src/crypto/signer.ts';
import { Mempool } from '../../src/mempool/mempool.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { Block } from '../../src/primitives/block.ts';
import { type Coin, encodeCoin, utxoElement } from '../../src/primitives/coin.ts';
import { CommitCertificate } from '../../src/primitives/commit.ts';
import { type DuplicateVoteEvidence, evidenceRoot } from '../../src/primitives/evidence.ts';
import { HEADER_VERSION, Header, type HeaderFields } from '../../src/primitives/header.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { merkleRoot } from '../../src/primitives/merkle.ts';
import { type Outpoint, outpointKey } from '../../src/primitives/outpoint.ts';
import { SighashContext } from '../../src/primitives/sighash.ts';
import {
  Transaction,
  TX_VERSION,
  type TxFields,
  type TxOutput,
  type Witness,
} from '../../src/primitives/transaction.ts';
import { Bucket, bucketKey } from '../../src/storage/buckets.ts';
import { bytesKey, toHex } from '../../src/util/bytes.ts';
import {
  openTestChain,
  signSoloCommit,
  type TestChain,
  testGenesis,
  testKey,
} from './chain-fixture.ts';

export const validator = testKey(0);
export const alice = testKey(1);
export const bob = testKey(2);
/** Coinbase outputs of block h are spendable from block h + MATURITY. */
export const MATURITY = 3;
/** Small size limits, so that oversize transactions and blocks are cheap to build. */
export const MAX_TX_BYTES = 4_000;
export const MAX_BLOCK_BYTES = 20_000;
/** Four pieces of duplicate-vote evidence (234 bytes each). */
export const MAX_BLOCK_EVIDENCE_BYTES = 4 * 234;
/** Genesis gives alice this many coins of FUNDING each, so tests have inputs to spare. */
export const FUNDED_COINS = 12;
export const FUNDING = 100n * COIN;

export function ruleGenesis(): Genesis {
  const base = testGenesis({
    validator,
    funded: Array.from({ length: FUNDED_COINS }, () => alice),
    amount: FUNDING,
    coinbaseMaturity: MATURITY,
  });
  return {
    ...base,
    params: {
      ...base.params,
      maxTxBytes: MAX_TX_BYTES,
      maxBlockBytes: MAX_BLOCK_BYTES,
      staking: { ...base.params.staking, maxBlockEvidenceBytes: MAX_BLOCK_EVIDENCE_BYTES },
    },
  };
}

/** A coin with its outpoint and the key that can spend it. */
export interface Owned {
  readonly outpoint: Outpoint;
  readonly output: TxOutput;
  readonly key: KeyPair;
}

/** A fresh chain on its own LevelDB: every test starts from genesis, independent of the others. */
export async function withRuleChain(fn: (t: RuleChain) => Promise<void>): Promise<void> {
  const tc = await openTestChain({ genesis: ruleGenesis(), validator });
  try {
    await fn(new RuleChain(tc));
  } finally {
    await tc.destroy();
  }
}

export interface HandBlockOptions {
  /** Transactions after the coinbase. */
  readonly txs?: readonly Transaction[];
  /** Replaces the whole transaction list (coinbase included) once the coinbase is built. */
  readonly editTxs?: (txs: Transaction[]) => Transaction[];
  /** Added to what the coinbase pays (subsidy + fees). */
  readonly coinbaseExtra?: bigint;
  readonly coinbaseLockTime?: number;
  readonly lastCommit?: CommitCertificate;
  /** False: commit to the coinbase outputs as if they were ordinary ones (a wrong UTXO root). */
  readonly coinbaseFlag?: boolean;
  /** Duplicate-vote evidence the block commits (header.evidenceRoot follows it). */
  readonly evidence?: readonly DuplicateVoteEvidence[];
  /** Applied last: header fields the test breaks on purpose. */
  readonly header?: Partial<HeaderFields>;
}

export class RuleChain {
  readonly t: TestChain;
  readonly chain: Chain;
  readonly signatures: SignatureChecker;

  constructor(t: TestChain) {
    this.t = t;
    this.chain = t.chain;
    this.signatures = new SignatureChecker({
      verifier: t.verifier,
      cache: new SignatureCache({ maxEntries: 10_000 }),
    });
  }

  /** Alice's genesis coins. */
  async genesisCoins(): Promise<Owned[]> {
    const tx = (await this.chain.requireBlockAt(0)).txs[0]!;
    return tx.outputs.map((output, index) => ({
      outpoint: { txid: tx.txid, index },
      output,
      key: alice,
    }));
  }

  /** A real mempool on this chain (the chain is its chain view). */
  mempool(): Mempool {
    return new Mempool(
      {},
      {
        params: this.chain.params,
        chainIdHash: this.chain.chainIdHash,
        chain: this.chain,
        signatures: this.signatures,
      },
    );
  }

  /** A transaction spending `inputs`, signed for this chain unless `witnesses` are given. */
  tx(
    inputs: readonly Owned[],
    outputs: readonly TxOutput[],
    fields: Partial<Omit<TxFields, 'inputs' | 'outputs'>> = {},
  ): Transaction {
    const unsigned = new Transaction({
      version: fields.version ?? TX_VERSION,
      inputs: inputs.map((i) => ({ prevout: i.outpoint })),
      outputs,
      lockTime: fields.lockTime ?? 0,
      payload: fields.payload ?? null,
      witnesses: [],
    });
    if (fields.witnesses !== undefined) return unsigned.withWitnesses(fields.witnesses);
    const context = new SighashContext(
      this.chain.chainIdHash,
      unsigned,
      inputs.map((i) => i.output),
    );
    return unsigned.withWitnesses(
      inputs.map(
        (input, i): Witness => ({
          publicKey: input.key.publicKey,
          signature: sign(context.forInput(i), input.key.privateKey),
        }),
      ),
    );
  }

  /** Spends `inputs` to `to` (default bob) in one output, leaving `fee`. */
  pay(inputs: readonly Owned[], fee = 1000n, to: KeyPair = bob): Transaction {
    const total = inputs.reduce((s, i) => s + i.output.amount, 0n);
    return this.tx(inputs, [{ amount: total - fee, lock: pubkeyLock(to.publicKey) }]);
  }

  /**
   * The next block with `txs`, valid in every respect the options do not
   * break: coinbase for subsidy + fees, parent commit, Merkle root and UTXO
   * commitment, all computed here rather than by the assembler or verifier.
   */
  async block(opts: HandBlockOptions = {}): Promise<Block> {
    const tip = this.chain.tip;
    const height = tip.height + 1;
    const txs = opts.txs ?? [];
    const { fees, spent, created } = await this.effects(txs, height);
    const coinbase = new Transaction({
      version: TX_VERSION,
      inputs: [],
      outputs: [
        {
          amount: blockSubsidy(this.chain.params, height) + fees + (opts.coinbaseExtra ?? 0n),
          lock: pubkeyLock(validator.publicKey),
        },
      ],
      lockTime: opts.coinbaseLockTime ?? height,
      payload: null,
      witnesses: [],
    });
    const all = opts.editTxs ? opts.editTxs([coinbase, ...txs]) : [coinbase, ...txs];
    const state = this.chain.utxoStateAtTip();
    for (const s of spent) state.remove(utxoElement(s.outpoint, encodeCoin(s.coin)));
    coinbase.outputs.forEach((output, index) => {
      created.set(bytesKey(outpointKey({ txid: coinbase.txid, index })), {
        outpoint: { txid: coinbase.txid, index },
        coin: {
          amount: output.amount,
          lock: output.lock,
          height,
          coinbase: opts.coinbaseFlag ?? true,
        },
      });
    });
    for (const c of created.values()) state.insert(utxoElement(c.outpoint, encodeCoin(c.coin)));
    const lastCommit =
      opts.lastCommit ??
      (height === 1
        ? CommitCertificate.empty(this.chain.genesisHash)
        : await this.chain.requireCommitAt(tip.height));
    const time = tip.header.time + 1000;
    const evidence = opts.evidence ?? [];
    const header = new Header({
      version: HEADER_VERSION,
      height,
      time,
      prevHash: tip.hash,
      txRoot: merkleRoot(all.map((tx) => tx.wtxid)),
      utxoRoot: state.finalize(),
      stateRoot: await this.stateRootFor({ height, time, lastCommit, txs: all, evidence }),
      validatorSetHash: this.chain.validatorsAt(height).hash,
      nextValidatorSetHash: this.chain.validatorsAt(height + 1).hash,
      lastCommitHash: lastCommit.hash,
      evidenceRoot: evidenceRoot(evidence),
      proposer: validator.publicKey,
      ...opts.header,
    });
    return new Block(header, lastCommit, all, evidence);
  }

  /**
   * The state root the chain computes for these contents; zeros when the
   * staking rules refuse them (the block is then rejected for that rule first).
   */
  private async stateRootFor(input: Parameters<Chain['previewState']>[0]): Promise<Uint8Array> {
    try {
      return (await this.chain.previewState(input)).root;
    } catch (error) {
      if (error instanceof VerificationError) return new Uint8Array(32);
      throw error;
    }
  }

  /** Independent bookkeeping of what `txs` do at `height`: fees, chain coins spent, coins left. */
  private async effects(txs: readonly Transaction[], height: number) {
    type Placed = { outpoint: Outpoint; coin: Coin };
    const created = new Map<string, Placed>();
    const spent: Placed[] = [];
    let fees = 0n;
    for (const tx of txs) {
      let inputs = 0n;
      for (const { prevout } of tx.inputs) {
        const k = bytesKey(outpointKey(prevout));
        const inBlock = created.get(k);
        if (inBlock !== undefined) {
          created.delete(k);
          inputs += inBlock.coin.amount;
          continue;
        }
        const [coin] = await this.chain.getCoins([prevout]);
        if (coin !== undefined) {
          spent.push({ outpoint: prevout, coin });
          inputs += coin.amount;
        }
      }
      const outputs = tx.outputs.reduce((s, o) => s + o.amount, 0n);
      if (inputs > outputs) fees += inputs - outputs;
      tx.outputs.forEach((output, index) => {
        const outpoint = { txid: tx.txid, index };
        created.set(bytesKey(outpointKey(outpoint)), {
          outpoint,
          coin: { amount: output.amount, lock: output.lock, height, coinbase: false },
        });
      });
    }
    return { fees, spent, created };
  }

  /** The one validator's commit for `block`. */
  commit(block: Block, round = 0): CommitCertificate {
    return signSoloCommit(this.chain.chainIdHash, block, validator, 0, round);
  }

  /** Connects a valid block of `txs` built here; fails the test if the chain refuses it. */
  async connect(txs: readonly Transaction[] = [], opts: HandBlockOptions = {}): Promise<Block> {
    const block = await this.block({ ...opts, txs });
    await this.chain.connectBlock(block, this.commit(block), { now: null });
    return block;
  }

  /** Empty blocks until the tip is at `height`. */
  async growTo(height: number): Promise<void> {
    while (this.chain.tipHeight < height) await this.connect();
  }

  /** The coinbase output of block `height` as a spendable coin of the validator. */
  async coinbaseOf(height: number): Promise<Owned> {
    const cb = (await this.chain.requireBlockAt(height)).txs[0]!;
    return { outpoint: { txid: cb.txid, index: 0 }, output: cb.outputs[0]!, key: validator };
  }

  /** Everything a rejected block must leave alone: every database record, tip and UTXO state. */
  async snapshot(): Promise<ChainSnapshot> {
    const records: string[] = [];
    for await (const [k, v] of this.t.db.range(Uint8Array.of(0), Uint8Array.of(0xff))) {
      // Signer state and audit entries are not the chain's; nothing else may move.
      if (k[0] === Bucket.signerState || k[0] === Bucket.audit) continue;
      records.push(`${toHex(k)}=${toHex(v)}`);
    }
    const tip = this.chain.tip;
    return {
      tipHeight: tip.height,
      tipHash: toHex(tip.hash),
      utxoRoot: toHex(this.chain.utxoStateAtTip().finalize()),
      recordsDigest: toHex(sha256(new TextEncoder().encode(records.join('\n')))),
      records: records.length,
    };
  }

  /**
   * Connects `block` expecting exactly `code`, then checks that nothing
   * changed: database records (coins, blocks, undo, indexes, tip), the
   * in-memory tip and UTXO state, and that the coin cache holds none of the
   * block's outputs and agrees with the database on every coin it touched.
   */
  async rejectsBlock(
    block: Block,
    code: string,
    opts: { commit?: CommitCertificate; now?: number | null } = {},
  ): Promise<VerificationError> {
    const before = await this.snapshot();
    const error = await captureVerificationError(() =>
      this.chain.connectBlock(block, opts.commit ?? this.commit(block), {
        now: opts.now === undefined ? null : opts.now,
      }),
    );
    assert.equal(error.code, code, `expected ${code}, got ${error.message}`);
    assert.deepEqual(await this.snapshot(), before, 'a rejected block changed the chain');
    // Every coin the block touched (spent or created): the cache holds it
    // only as the database does, so a rejected block's outputs are not there.
    const cache = this.chain.utxos.cache;
    const touched = block.txs.flatMap((tx) => [
      ...tx.inputs.map((i) => outpointKey(i.prevout)),
      ...tx.outputs.map((_, index) => outpointKey({ txid: tx.txid, index })),
    ]);
    for (const key of touched) {
      if (!cache.has(key)) continue;
      const stored = await this.t.db.get(bucketKey(Bucket.coin, key));
      assert.equal(
        toHex(cache.get(key)!),
        stored === undefined ? undefined : toHex(stored),
        'the coin cache holds a coin the database does not',
      );
    }
    return error;
  }

  /**
   * Offers `tx` to `mempool` expecting exactly `code`, then checks the pool
   * did not change: same entries, bytes and spent-outpoint index.
   */
  async rejectsTx(mempool: Mempool, tx: Transaction, code: string): Promise<VerificationError> {
    const before = poolState(mempool);
    const error = await captureVerificationError(() => mempool.add(tx, 'peer'));
    assert.equal(error.code, code, `expected ${code}, got ${error.message}`);
    assert.deepEqual(poolState(mempool), before, 'a rejected transaction changed the mempool');
    for (const { prevout } of tx.inputs) {
      const spender = mempool.spenderOf(prevout);
      assert.ok(
        spender === undefined || !spender.txid.every((b, i) => b === tx.txid[i]),
        'a rejected transaction is indexed as a spender',
      );
    }
    assert.equal(mempool.hasOrphan(tx.txid), false, 'a rejected transaction became an orphan');
    return error;
  }
}

export interface ChainSnapshot {
  readonly tipHeight: number;
  readonly tipHash: string;
  readonly utxoRoot: string;
  readonly recordsDigest: string;
  readonly records: number;
}

function poolState(mempool: Mempool) {
  return {
    size: mempool.size,
    bytes: mempool.bytes,
    txids: [...mempool.entries()].map((e) => toHex(e.txid)),
    orphans: mempool.stats.orphans,
  };
}

async function captureVerificationError(fn: () => Promise<unknown>): Promise<VerificationError> {
  try {
    await fn();
  } catch (error) {
    assert.ok(
      error instanceof VerificationError,
      `expected a VerificationError, got ${String(error)}`,
    );
    return error;
  }
  assert.fail('expected a VerificationError, but it was accepted');
}

/** `n` outputs to bob splitting `total - fee`. */
export function split(total: bigint, n: number, fee: bigint): TxOutput[] {
  const each = (total - fee) / BigInt(n);
  return Array.from({ length: n }, () => ({ amount: each, lock: pubkeyLock(bob.publicKey) }));
}

/** A signed spend of `input` whose encoding is exactly `size` bytes (outputs + a memo fill it). */
export function txOfSize(r: RuleChain, input: Owned, size: number): Transaction {
  for (let n = 1; n < 200; n++) {
    const bare = r.tx([input], split(input.output.amount, n, 50_000n));
    const memo = size - bare.size - 2; // payload: type varint + length varint + data
    if (memo >= 0 && memo <= 200) {
      const tx = r.tx([input], split(input.output.amount, n, 50_000n), {
        payload: { type: 0, data: new Uint8Array(memo) },
      });
      assert.equal(tx.size, size);
      return tx;
    }
  }
  throw new Error(`no transaction of ${size} bytes`);
}
