/** fast-check generators for protocol structures, shared by property tests. */
import fc from 'fast-check';
import { MAX_MONEY } from '../../src/primitives/amount.ts';
import { Block } from '../../src/primitives/block.ts';
import { CommitCertificate } from '../../src/primitives/commit.ts';
import { HEADER_VERSION, Header } from '../../src/primitives/header.ts';
import { LockType } from '../../src/primitives/lock.ts';
import { Transaction, TX_VERSION } from '../../src/primitives/transaction.ts';

export const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

export const lockArb = fc.record({ type: fc.constant(LockType.pubkeyHash), hash: hash32 });
export const outputArb = fc.record({
  amount: fc.bigInt({ min: 0n, max: MAX_MONEY }),
  lock: lockArb,
});
export const outpointArb = fc.record({ txid: hash32, index: fc.nat(0xffff_ffff) });

export const transactionArb: fc.Arbitrary<Transaction> = fc
  .record({
    inputs: fc.array(fc.record({ prevout: outpointArb }), { maxLength: 4 }),
    outputs: fc.array(outputArb, { maxLength: 4 }),
    lockTime: fc.nat(0xffff_ffff),
    payload: fc.option(
      fc.record({ type: fc.nat(0xffff), data: fc.uint8Array({ maxLength: 64 }) }),
      {
        nil: null,
      },
    ),
  })
  .chain((fields) =>
    fc
      .array(fc.record({ publicKey: bytes(33), signature: bytes(64) }), {
        minLength: fields.inputs.length,
        maxLength: fields.inputs.length,
      })
      .map((witnesses) => new Transaction({ version: TX_VERSION, ...fields, witnesses })),
  );

export const headerArb: fc.Arbitrary<Header> = fc
  .record({
    height: fc.nat(0xffff_ffff),
    time: fc.maxSafeNat(),
    prevHash: hash32,
    txRoot: hash32,
    utxoRoot: hash32,
    stateRoot: hash32,
    validatorSetHash: hash32,
    nextValidatorSetHash: hash32,
    lastCommitHash: hash32,
    evidenceRoot: hash32,
    proposer: bytes(33),
  })
  .map((fields) => new Header({ version: HEADER_VERSION, ...fields }));

export const commitArb: fc.Arbitrary<CommitCertificate> = fc
  .record({
    height: fc.nat(0xffff_ffff),
    round: fc.nat(0xffff_ffff),
    blockHash: hash32,
    indexes: fc.uniqueArray(fc.nat(0xffff), { maxLength: 5 }),
  })
  .chain(({ indexes, ...rest }) =>
    fc.array(bytes(64), { minLength: indexes.length, maxLength: indexes.length }).map(
      (sigs) =>
        new CommitCertificate({
          ...rest,
          signatures: [...indexes]
            .sort((a, b) => a - b)
            .map((validatorIndex, i) => ({ validatorIndex, signature: sigs[i]! })),
        }),
    ),
  );

export const blockArb: fc.Arbitrary<Block> = fc
  .tuple(headerArb, commitArb, fc.array(transactionArb, { maxLength: 3 }))
  .map(([header, commit, txs]) => new Block(header, commit, txs));
