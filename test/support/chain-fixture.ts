/** A real chain on a real LevelDB in a temp directory, with a real signer, for tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleBlock } from '../../src/chain/block-assembler.ts';
import { Chain } from '../../src/chain/chain.ts';
import type { Genesis } from '../../src/chain/genesis.ts';
import type { SpendableCoin } from '../../src/client/tx-builder.ts';
import { DEVNET_PARAMS } from '../../src/consensus/params.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { ValidatorSet } from '../../src/consensus/validator-set.ts';
import { ValidatorSigner } from '../../src/consensus/validator-signer.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { SignatureCache } from '../../src/crypto/sig-cache.ts';
import { getPublicKey, sign } from '../../src/crypto/signer.ts';
import { ParallelVerifier } from '../../src/crypto/verify-pool.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { COIN } from '../../src/primitives/amount.ts';
import type { Block } from '../../src/primitives/block.ts';
import { CommitCertificate, VoteType, voteDigest } from '../../src/primitives/commit.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { chainIdHash } from '../../src/primitives/sighash.ts';
import type { Transaction } from '../../src/primitives/transaction.ts';
import { Database } from '../../src/storage/db.ts';

/**
 * The commit certificate of a one-validator chain, signed directly rather than
 * through the ValidatorSigner: tests and benches certify blocks (invalid ones
 * too, on purpose) that the signer's double-sign guard would refuse.
 */
export function signSoloCommit(
  chainIdHashBytes: Uint8Array,
  block: Block,
  key: KeyPair,
  validatorIndex = 0,
  round = 0,
): CommitCertificate {
  const digest = voteDigest(chainIdHashBytes, VoteType.precommit, block.height, round, block.hash);
  return new CommitCertificate({
    height: block.height,
    round,
    blockHash: block.hash,
    signatures: [{ validatorIndex, signature: sign(digest, key.privateKey) }],
  });
}

/**
 * Assembles the next block on `chain`'s tip with `txs`, certifies it with the
 * one validator's `key` and connects it: a block producer in one call, for
 * seeding chains in tests and benches.
 */
export async function connectSoloBlock(
  chain: Chain,
  key: KeyPair,
  txs: readonly Transaction[] = [],
  opts: { fees?: bigint; time?: number } = {},
): Promise<Block> {
  const block = await assembleBlock(chain, {
    txs,
    fees: opts.fees ?? 0n,
    proposer: key.publicKey,
    rewardLock: pubkeyLock(key.publicKey),
    time: opts.time ?? chain.tip.header.time + 1,
  });
  const commit = signSoloCommit(
    chain.chainIdHash,
    block,
    key,
    chain.validators.indexOf(key.publicKey),
  );
  await chain.connectBlock(block, commit, { now: null });
  return block;
}

/** Deterministic test key number `n`. */
export function testKey(n: number): KeyPair {
  const privateKey = sha256(new TextEncoder().encode(`utxod test key ${n}`));
  return { privateKey, publicKey: getPublicKey(privateKey) };
}

export const CHAIN_ID = 'utxod-test';

export function testGenesis(opts: {
  validator: KeyPair;
  funded: KeyPair[];
  amount?: bigint;
  coinbaseMaturity?: number;
}): Genesis {
  return {
    chainId: CHAIN_ID,
    time: Date.UTC(2026, 0, 1),
    params: {
      ...DEVNET_PARAMS,
      chainId: CHAIN_ID,
      coinbaseMaturity: opts.coinbaseMaturity ?? 3,
      checkpointInterval: 5,
    },
    validators: new ValidatorSet([{ publicKey: opts.validator.publicKey, power: 10n }]),
    allocations: opts.funded.map((key) => ({
      address: '',
      lock: pubkeyLock(key.publicKey),
      amount: opts.amount ?? 1000n * COIN,
    })),
  };
}

export interface TestChain {
  readonly chain: Chain;
  readonly db: Database;
  readonly dir: string;
  readonly signer: ValidatorSigner;
  readonly validator: KeyPair;
  readonly verifier: ParallelVerifier;
  /** Assembles, signs and connects the next block with `txs`. */
  produce(txs?: readonly Transaction[], fees?: bigint): Promise<Block>;
  /** Signs a commit for `block` without connecting it. */
  commitFor(block: Block, round?: number): CommitCertificate;
  reopen(): Promise<TestChain>;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

export async function openTestChain(opts: {
  genesis: Genesis;
  validator: KeyPair;
  dir?: string;
  cacheBytes?: number;
}): Promise<TestChain> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'utxod-chain-'));
  const db = await Database.open({ path: join(dir, 'chain'), syncWrites: false });
  const verifier = await ParallelVerifier.init({ workers: 0 });
  const signatures = new SignatureChecker({
    verifier,
    cache: new SignatureCache({ maxEntries: 10_000 }),
  });
  const chain = await Chain.init(
    { utxoCacheBytes: opts.cacheBytes ?? 1 << 20 },
    { db, genesis: opts.genesis, signatures, logger: silentLogger() },
  );
  const signer = new ValidatorSigner(
    { statePath: join(dir, 'signer-state.json'), chainIdHash: chainIdHash(opts.genesis.chainId) },
    { key: opts.validator },
  );
  let time = Math.max(Date.now(), chain.tip.header.time + 1);
  const self: TestChain = {
    chain,
    db,
    dir,
    signer,
    validator: opts.validator,
    verifier,
    commitFor(block, round = 0) {
      const index = chain.validatorsAt(block.height).indexOf(opts.validator.publicKey);
      return signSoloCommit(chainIdHash(opts.genesis.chainId), block, opts.validator, index, round);
    },
    async produce(txs = [], fees = 0n) {
      time += 1000;
      return connectSoloBlock(chain, opts.validator, txs, { fees, time });
    },
    async reopen() {
      await self.close();
      return openTestChain({ ...opts, dir });
    },
    async close() {
      await verifier.close();
      await db.close();
    },
    async destroy() {
      await self.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/** The genesis allocations as spendable coins. */
export async function genesisCoins(chain: Chain): Promise<SpendableCoin[]> {
  const genesisBlock = await chain.requireBlockAt(0);
  const tx = genesisBlock.txs[0]!;
  return tx.outputs.map((o, index) => ({
    outpoint: { txid: tx.txid, index },
    amount: o.amount,
    lock: o.lock,
  }));
}
