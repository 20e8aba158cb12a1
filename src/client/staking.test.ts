import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signatureJobs } from '../consensus/index.ts';
import { decodeStakingPayload } from '../consensus/staking/index.ts';
import { accountPath, deriveKey, mnemonicToSeed } from '../crypto/hd-keys.ts';
import { nobleVerifier } from '../crypto/verifier.ts';
import { COIN, chainIdHash, pubkeyLock, Transaction } from '../primitives/index.ts';
import { bytesEqual } from '../util/index.ts';
import { buildStakingTransaction, isValidConsensusKey, type StakingAction } from './staking.ts';
import { dustLimit, feeForSize, type SpendableCoin, TxBuildError } from './tx-builder.ts';

const seed = mnemonicToSeed(
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
);
const operator = deriveKey(seed, accountPath(1, 0, 0));
const other = deriveKey(seed, accountPath(1, 0, 1));
const consensus = deriveKey(seed, accountPath(1, 1, 0));
const operatorLock = pubkeyLock(operator.publicKey);
const CHAIN = 'staking-sdk-test';

function coin(index: number, amount: bigint, lock = operatorLock): SpendableCoin {
  return { outpoint: { txid: new Uint8Array(32).fill(index + 1), index }, amount, lock };
}

function build(action: StakingAction, coins: SpendableCoin[], feeRate = 1000n) {
  return buildStakingTransaction({ chainId: CHAIN, action, operator, coins, feeRate });
}

/** Every witness verifies against the sighash the node computes (consensus signatureJobs). */
function assertSigned(tx: Transaction, spent: readonly SpendableCoin[]): void {
  const jobs = signatureJobs(tx, spent, chainIdHash(CHAIN));
  assert.equal(jobs.length, tx.inputs.length);
  for (const job of jobs) assert.ok(nobleVerifier.verify(job.msg, job.sig, job.pub));
  assert.ok(
    bytesEqual(tx.witnesses[0]!.publicKey, operator.publicKey),
    'the operator signs input 0',
  );
}

describe('buildStakingTransaction', () => {
  const actions: Array<[string, StakingAction]> = [
    ['bond', { kind: 'bond', amount: 5n * COIN, consensusKey: consensus.publicKey }],
    ['unbond', { kind: 'unbond', amount: 2n * COIN }],
    ['rotateKey', { kind: 'rotateKey', consensusKey: other.publicKey }],
    ['unjail', { kind: 'unjail' }],
    ['withdraw', { kind: 'withdraw', creationHeight: 77, amount: 3n * COIN }],
  ];

  for (const [name, action] of actions) {
    test(`${name}: the consensus decoder reads back the action, the signatures verify, the value balances`, () => {
      const coins = [
        coin(0, COIN / 2n),
        coin(1, 10n * COIN),
        coin(2, 1n, pubkeyLock(other.publicKey)),
      ];
      const { tx, fee, spent } = build(action, coins);
      // Through the wire encoding, as the node receives it.
      const wire = Transaction.decode(tx.encode());
      assert.ok(wire.payload !== null);
      const decoded = decodeStakingPayload(wire.payload);
      assert.equal(decoded.kind, action.kind);
      if (action.kind === 'bond' && decoded.kind === 'bond') {
        assert.equal(decoded.amount, action.amount);
        assert.ok(bytesEqual(decoded.consensusKey, action.consensusKey));
      }
      if (action.kind === 'unbond' && decoded.kind === 'unbond')
        assert.equal(decoded.amount, action.amount);
      if (action.kind === 'rotateKey' && decoded.kind === 'rotateKey')
        assert.ok(bytesEqual(decoded.consensusKey, action.consensusKey));
      if (action.kind === 'withdraw' && decoded.kind === 'withdraw')
        assert.equal(decoded.creationHeight, action.creationHeight);
      assertSigned(wire, spent);
      // Never the other key's coin: the operator must sign every input.
      for (const s of spent) assert.ok(bytesEqual(s.lock.hash, operatorLock.hash));
      // inputs + withdrawn = outputs + bonded + fee, and the fee is the rate's.
      const inputs = spent.reduce((sum, c) => sum + c.amount, 0n);
      const outputs = wire.outputs.reduce((sum, o) => sum + o.amount, 0n);
      const bonded = action.kind === 'bond' ? action.amount : 0n;
      const withdrawn = action.kind === 'withdraw' ? action.amount : 0n;
      assert.equal(inputs + withdrawn, outputs + bonded + fee);
      assert.equal(fee, feeForSize(wire.size, 1000n));
      assert.equal(wire.outputs.length, 1);
      assert.ok(
        bytesEqual(wire.outputs[0]!.lock.hash, operatorLock.hash),
        'change to the operator',
      );
      assert.ok(wire.outputs[0]!.amount >= dustLimit(1000n));
    });
  }

  test('a fee-only action takes the largest coin alone', () => {
    const { spent } = build({ kind: 'unjail' }, [coin(0, COIN / 2n), coin(1, 10n * COIN)]);
    assert.deepEqual(
      spent.map((c) => c.amount),
      [10n * COIN],
    );
  });

  test('a bond larger than the coins is INSUFFICIENT_FUNDS with the amounts, before signing', () => {
    assert.throws(
      () =>
        build({ kind: 'bond', amount: 11n * COIN, consensusKey: consensus.publicKey }, [
          coin(0, 10n * COIN),
        ]),
      (error: unknown) =>
        error instanceof TxBuildError &&
        error.code === 'INSUFFICIENT_FUNDS' &&
        error.details['available'] === (10n * COIN).toString(),
    );
  });

  test('the operator needs a coin of its own even to withdraw (its signature authorises the action)', () => {
    assert.throws(
      () =>
        build({ kind: 'withdraw', creationHeight: 1, amount: COIN }, [
          coin(0, COIN, pubkeyLock(other.publicKey)),
        ]),
      (error: unknown) => error instanceof TxBuildError && error.code === 'INSUFFICIENT_FUNDS',
    );
  });

  test('refuses what the node would decode as malformed', () => {
    // x = 2^264 - 1 > p: no point has it.
    const offCurve = new Uint8Array(33).fill(0xff);
    offCurve[0] = 2;
    const bad: StakingAction[] = [
      { kind: 'bond', amount: 0n, consensusKey: consensus.publicKey },
      { kind: 'bond', amount: COIN, consensusKey: offCurve },
      { kind: 'unbond', amount: -1n },
      { kind: 'rotateKey', consensusKey: new Uint8Array(32) },
      { kind: 'withdraw', creationHeight: -1, amount: COIN },
      { kind: 'withdraw', creationHeight: 2 ** 32, amount: COIN },
    ];
    for (const action of bad)
      assert.throws(
        () => build(action, [coin(0, 10n * COIN)]),
        (error: unknown) => error instanceof TxBuildError && error.code === 'INVALID_TX_REQUEST',
        action.kind,
      );
  });

  test('isValidConsensusKey accepts a real key and refuses off-curve and uncompressed bytes', () => {
    assert.equal(isValidConsensusKey(consensus.publicKey), true);
    const offCurve = new Uint8Array(33).fill(0xff);
    offCurve[0] = 2;
    assert.equal(isValidConsensusKey(offCurve), false);
    assert.equal(isValidConsensusKey(new Uint8Array(65).fill(4)), false);
  });
});
