import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { blockArb, commitArb, headerArb, transactionArb } from '../../test/support/arbitraries.ts';
import { DecodeError } from '../encoding/errors.ts';
import { Block } from './block.ts';
import { CommitCertificate } from './commit.ts';
import { Header } from './header.ts';
import { Transaction } from './transaction.ts';

interface Codec<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  encode: (value: T) => Uint8Array;
  decode: (bytes: Uint8Array) => T;
}

const codecs: Array<Codec<unknown>> = [
  {
    name: 'transaction',
    arb: transactionArb,
    encode: (t) => (t as Transaction).encode(),
    decode: Transaction.decode,
  },
  { name: 'header', arb: headerArb, encode: (h) => (h as Header).encode(), decode: Header.decode },
  {
    name: 'commit',
    arb: commitArb,
    encode: (c) => (c as CommitCertificate).encode(),
    decode: CommitCertificate.decode,
  },
  { name: 'block', arb: blockArb, encode: (b) => (b as Block).encode(), decode: Block.decode },
] as Array<Codec<unknown>>;

/** Re-encoding from fields, not from a cached byte copy. */
function freshEncode(name: string, value: unknown): Uint8Array {
  switch (name) {
    case 'transaction': {
      const tx = value as Transaction;
      return new Transaction({ ...tx, witnesses: tx.witnesses }).encode();
    }
    case 'block': {
      const b = value as Block;
      return new Block(
        b.header,
        b.lastCommit,
        b.txs.map((t) => new Transaction({ ...t })),
        b.evidence.map((e) => ({ ...e })),
      ).encode();
    }
    default:
      return (value as { encode(): Uint8Array }).encode();
  }
}

for (const codec of codecs) {
  describe(`primitives: ${codec.name} encoding`, () => {
    it('decode(encode(x)) re-encodes to the same bytes', () => {
      fc.assert(
        fc.property(codec.arb, (value) => {
          const bytes = codec.encode(value);
          const decoded = codec.decode(bytes);
          assert.deepEqual(freshEncode(codec.name, decoded), bytes);
        }),
      );
    });

    it('mutated bytes are rejected with DecodeError or decode to a value that re-encodes identically', () => {
      fc.assert(
        fc.property(
          codec.arb,
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          fc.constantFrom('flip', 'truncate', 'append'),
          (value, position, delta, kind) => {
            const original = codec.encode(value);
            let mutated: Uint8Array;
            if (kind === 'flip') {
              mutated = original.slice();
              const at = position % mutated.length;
              mutated[at] = (mutated[at]! + delta) & 0xff;
            } else if (kind === 'truncate') {
              mutated = original.slice(0, position % original.length);
            } else {
              mutated = new Uint8Array([...original, delta]);
            }
            try {
              const decoded = codec.decode(mutated);
              assert.deepEqual(freshEncode(codec.name, decoded), mutated);
            } catch (error) {
              assert.ok(error instanceof DecodeError, `unexpected ${String(error)}`);
            }
          },
        ),
      );
    });
  });
}

describe('primitives: transaction ids', () => {
  it('txid ignores witnesses, wtxid does not', () => {
    fc.assert(
      fc.property(transactionArb, (tx) => {
        fc.pre(tx.inputs.length > 0);
        const resigned = tx.withWitnesses(
          tx.witnesses.map((w) => ({
            publicKey: w.publicKey,
            signature: w.signature.map((b) => b ^ 1),
          })),
        );
        assert.deepEqual(resigned.txid, tx.txid);
        assert.notDeepEqual(resigned.wtxid, tx.wtxid);
      }),
    );
  });
});
