/**
 * Test support for the mempool's tests and benchmark (not used by the node):
 * real keys and signatures, a real verifier, and an in-memory chain view that
 * holds real coins and connects blocks.
 */
import { type ConsensusParams, DEVNET_PARAMS } from '../../src/consensus/params.ts';
import {
  type BatchVerifier,
  SignatureChecker,
  type SignatureJob,
  type VerifiedSignatureCache,
} from '../../src/consensus/signatures.ts';
import { sha256, Tag, taggedHash } from '../../src/crypto/hash.ts';
import { getPublicKey, sign } from '../../src/crypto/signer.ts';
import { bestVerifier, type SignatureVerifier } from '../../src/crypto/verifier.ts';
import type { MempoolEntryView } from '../../src/mempool/entry.ts';
import { compareFeeRate } from '../../src/mempool/feerate.ts';
import { Mempool, type MempoolChainView } from '../../src/mempool/index.ts';
import type { MempoolOptions } from '../../src/mempool/options.ts';
import { Block } from '../../src/primitives/block.ts';
import type { Coin } from '../../src/primitives/coin.ts';
import { CommitCertificate } from '../../src/primitives/commit.ts';
import { HEADER_VERSION, Header } from '../../src/primitives/header.ts';
import { type Lock, pubkeyLock } from '../../src/primitives/lock.ts';
import { type Outpoint, outpointKey } from '../../src/primitives/outpoint.ts';
import { SighashContext } from '../../src/primitives/sighash.ts';
import { Transaction, TX_VERSION, type TxOutput } from '../../src/primitives/transaction.ts';
import { bytesKey, concatBytes, u32BE } from '../../src/util/bytes.ts';

export const testParams: ConsensusParams = { ...DEVNET_PARAMS, chainId: 'utxod-mempool-test' };
export const testChainIdHash = taggedHash(
  Tag.chainId,
  new TextEncoder().encode(testParams.chainId),
);

/** A verifier that really verifies, one signature after another. */
export function realBatchVerifier(verifier: SignatureVerifier = bestVerifier()): BatchVerifier {
  return {
    verifyBatch: async (jobs: readonly SignatureJob[]) =>
      jobs.map((job) => verifier.verify(job.msg, job.sig, job.pub)),
  };
}

/** Unbounded set-backed cache: enough for tests and the benchmark. */
export class MemorySignatureCache implements VerifiedSignatureCache {
  private readonly seen = new Set<string>();

  private static key(msg: Uint8Array, sig: Uint8Array, pub: Uint8Array): string {
    return bytesKey(concatBytes(msg, sig, pub));
  }

  has(msg: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean {
    return this.seen.has(MemorySignatureCache.key(msg, sig, pub));
  }

  add(msg: Uint8Array, sig: Uint8Array, pub: Uint8Array): void {
    this.seen.add(MemorySignatureCache.key(msg, sig, pub));
  }

  get size(): number {
    return this.seen.size;
  }
}

export class TestKey {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly lock: Lock;

  /** Deterministic from `seed`, so failures reproduce. */
  constructor(seed: number) {
    this.privateKey = sha256(
      concatBytes(new TextEncoder().encode('mempool-test-key'), u32BE(seed)),
    );
    this.publicKey = getPublicKey(this.privateKey);
    this.lock = pubkeyLock(this.publicKey);
  }
}

/** An output someone can spend: where it is, what it holds, and the key for it. */
export interface Spendable {
  readonly outpoint: Outpoint;
  readonly amount: bigint;
  readonly key: TestKey;
}

/** Chain view over a Map of coins; `connect` applies a block the way the chain would. */
export class MemoryChain implements MempoolChainView {
  tipHeight: number;
  readonly coins = new Map<string, Coin>();
  private fundCounter = 0;

  constructor(tipHeight = 100) {
    this.tipHeight = tipHeight;
  }

  async getCoins(outpoints: readonly Outpoint[]): Promise<Array<Coin | undefined>> {
    return outpoints.map((op) => this.coins.get(bytesKey(outpointKey(op))));
  }

  /** A confirmed coin out of thin air (as if created by an earlier block). */
  fund(
    key: TestKey,
    amount: bigint,
    options: { coinbase?: boolean; height?: number } = {},
  ): Spendable {
    const txid = sha256(concatBytes(new TextEncoder().encode('fund'), u32BE(this.fundCounter++)));
    const outpoint = { txid, index: 0 };
    this.coins.set(bytesKey(outpointKey(outpoint)), {
      amount,
      lock: key.lock,
      height: options.height ?? this.tipHeight,
      coinbase: options.coinbase ?? false,
    });
    return { outpoint, amount, key };
  }

  /** Connects a block holding `txs` (no coinbase needed here) at tipHeight + 1. */
  connect(txs: readonly Transaction[]): Block {
    const height = this.tipHeight + 1;
    for (const tx of txs) {
      for (const { prevout } of tx.inputs) {
        const opKey = bytesKey(outpointKey(prevout));
        if (!this.coins.delete(opKey)) throw new Error('test block spends a missing coin');
      }
      tx.outputs.forEach((output, index) => {
        this.coins.set(bytesKey(outpointKey({ txid: tx.txid, index })), {
          amount: output.amount,
          lock: output.lock,
          height,
          coinbase: tx.isCoinbase,
        });
      });
    }
    this.tipHeight = height;
    return testBlock(height, txs);
  }
}

export function testBlock(height: number, txs: readonly Transaction[]): Block {
  const zero = new Uint8Array(32);
  const header = new Header({
    version: HEADER_VERSION,
    height,
    time: 0,
    prevHash: zero,
    txRoot: zero,
    utxoRoot: zero,
    stateRoot: zero,
    validatorSetHash: zero,
    nextValidatorSetHash: zero,
    lastCommitHash: zero,
    evidenceRoot: zero,
    proposer: new Uint8Array(33),
  });
  return new Block(header, CommitCertificate.empty(zero), txs);
}

export interface SpendOptions {
  /** Number of equal outputs the remainder is split into (default 1). */
  outputs?: number;
  /** Who receives the outputs (default: the first input's key). */
  to?: TestKey;
  lockTime?: number;
  /** Signing key per input (default: each input's own key), to forge wrong-key spends. */
  signers?: readonly TestKey[];
  /** Witness public keys per input (default: the signer's). */
  publicKeys?: readonly Uint8Array[];
  /** Amounts the signer is told it spends (default: the real ones), to forge bad signatures. */
  signedAmounts?: readonly bigint[];
  /** False: zero signatures, for pools filled through a verifier that waves them through. */
  sign?: boolean;
}

/** A signed transaction spending `inputs` and paying `fee`, remainder split into outputs. */
export function spend(
  inputs: readonly Spendable[],
  fee: bigint,
  options: SpendOptions = {},
): Transaction {
  const total = inputs.reduce((sum, input) => sum + input.amount, 0n);
  const count = options.outputs ?? 1;
  const value = total - fee;
  if (value < 0n) throw new Error('test spend: fee above inputs');
  const to = options.to ?? inputs[0]!.key;
  const each = value / BigInt(count);
  const outputs: TxOutput[] = [];
  for (let i = 0; i < count; i++) {
    outputs.push({ amount: i === 0 ? value - each * BigInt(count - 1) : each, lock: to.lock });
  }
  const unsigned = new Transaction({
    version: TX_VERSION,
    inputs: inputs.map((input) => ({ prevout: input.outpoint })),
    outputs,
    lockTime: options.lockTime ?? 0,
    payload: null,
    witnesses: [],
  });
  const spent = inputs.map((input, i) => ({
    amount: options.signedAmounts?.[i] ?? input.amount,
    lock: input.key.lock,
  }));
  const context =
    options.sign === false ? undefined : new SighashContext(testChainIdHash, unsigned, spent);
  return unsigned.withWitnesses(
    inputs.map((input, i) => {
      const signer = options.signers?.[i] ?? input.key;
      return {
        publicKey: options.publicKeys?.[i] ?? signer.publicKey,
        signature:
          context === undefined ? new Uint8Array(64) : sign(context.forInput(i), signer.privateKey),
      };
    }),
  );
}

/** The outputs of `tx` as spendables (all assumed to belong to `key`). */
export function outputsOf(tx: Transaction, key: TestKey): Spendable[] {
  return tx.outputs.map((output, index) => ({
    outpoint: { txid: tx.txid, index },
    amount: output.amount,
    key,
  }));
}

export interface TestPool {
  readonly mempool: Mempool;
  readonly chain: MemoryChain;
  readonly clock: { now: number };
  readonly cache: MemorySignatureCache;
}

export function testMempool(
  opts: MempoolOptions = {},
  setup: { chain?: MemoryChain; verifier?: BatchVerifier; cache?: MemorySignatureCache } = {},
): TestPool {
  const chain = setup.chain ?? new MemoryChain();
  const clock = { now: 1_700_000_000_000 };
  const cache = setup.cache ?? new MemorySignatureCache();
  const signatures = new SignatureChecker({
    verifier: setup.verifier ?? realBatchVerifier(),
    cache,
  });
  const mempool = new Mempool(opts, {
    params: testParams,
    chainIdHash: testChainIdHash,
    chain,
    signatures,
    clock: { now: () => clock.now },
  });
  return { mempool, chain, clock, cache };
}

/**
 * The obvious version of ancestor-package selection: score every entry on
 * its pending package, take the best, re-score everything, repeat. O(n^2 A)
 * and trivially right; the real one must choose exactly the same.
 */
export function referenceTemplate(mempool: Mempool, maxBytes: number): Transaction[] {
  const chosen = new Set<MempoolEntryView>();
  const skipped = new Set<MempoolEntryView>();
  const out: Transaction[] = [];
  let bytes = 0;
  const pending = (entry: MempoolEntryView): Set<MempoolEntryView> => {
    const members = new Set([entry]);
    const stack = [entry];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      for (const parent of next.parents) {
        if (!chosen.has(parent) && !members.has(parent)) {
          members.add(parent);
          stack.push(parent);
        }
      }
    }
    return members;
  };
  const order = [...mempool.entries()];
  for (;;) {
    let best: { entry: MempoolEntryView; fee: bigint; size: number; at: number } | undefined;
    order.forEach((entry, at) => {
      if (chosen.has(entry) || skipped.has(entry)) return;
      let fee = 0n;
      let size = 0;
      for (const member of pending(entry)) {
        fee += member.fee;
        size += member.size;
      }
      const c =
        best === undefined
          ? 1
          : compareFeeRate({ fee, size: BigInt(size) }, { fee: best.fee, size: BigInt(best.size) });
      if (c > 0 || (c === 0 && best !== undefined && at < best.at)) best = { entry, fee, size, at };
    });
    if (best === undefined) return out;
    if (bytes + best.size > maxBytes) {
      skipped.add(best.entry);
      continue;
    }
    const members = [...pending(best.entry)].sort((a, b) => order.indexOf(a) - order.indexOf(b));
    for (const member of members) {
      chosen.add(member);
      out.push(member.tx);
      bytes += member.size;
      // Its descendants' packages shrank: they may fit now.
      const stack = [...member.children];
      for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
        skipped.delete(next);
        stack.push(...next.children);
      }
    }
  }
}
