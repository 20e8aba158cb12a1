/** fast-check generators for protocol structures, shared by property tests. */
import fc from 'fast-check';
import { MAX_MONEY } from '../../src/primitives/amount.ts';
import { Block } from '../../src/primitives/block.ts';
import { CommitCertificate, VoteType } from '../../src/primitives/commit.ts';
import type { DuplicateVoteEvidence } from '../../src/primitives/evidence.ts';
import { HEADER_VERSION, Header } from '../../src/primitives/header.ts';
import { LockType } from '../../src/primitives/lock.ts';
import { Transaction, TX_VERSION } from '../../src/primitives/transaction.ts';
import { compareBytes } from '../../src/util/bytes.ts';

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

/** Structurally valid evidence (canonical block order, compressed-point prefix; keys not on the curve). */
export const evidenceArb: fc.Arbitrary<DuplicateVoteEvidence> = fc
  .record({
    voteType: fc.constantFrom(VoteType.prevote, VoteType.precommit),
    height: fc.nat(0xffff_ffff),
    round: fc.nat(0xffff_ffff),
    prefix: fc.constantFrom(2, 3),
    keyBody: bytes(32),
    hashes: fc.uniqueArray(hash32, {
      minLength: 2,
      maxLength: 2,
      selector: (h) => Buffer.from(h).toString('hex'),
    }),
    signatureA: bytes(64),
    signatureB: bytes(64),
  })
  .map(({ prefix, keyBody, hashes, ...rest }) => {
    const [a, b] = [...hashes].sort(compareBytes) as [Uint8Array, Uint8Array];
    return {
      ...rest,
      consensusKey: Uint8Array.of(prefix, ...keyBody),
      blockHashA: a,
      blockHashB: b,
    };
  });

export const blockArb: fc.Arbitrary<Block> = fc
  .tuple(
    headerArb,
    commitArb,
    fc.array(transactionArb, { maxLength: 3 }),
    fc.array(evidenceArb, { maxLength: 2 }),
  )
  .map(([header, commit, txs, evidence]) => new Block(header, commit, txs, evidence));
