/**
 * Fuzz targets: one per decoder of untrusted bytes. Each has a generator of
 * valid values (structure-aware seeds), its strict decoder and its encoder.
 * The property (runner.ts): every input is either rejected with a typed
 * UtxodError or decodes to a value that re-encodes to exactly the same bytes.
 */
import fc from 'fast-check';
import {
  decodeBlockWithCommit,
  decodeStatus,
  encodeBlockWithCommit,
  encodeStatus,
  P2P_PROTOCOL_VERSION,
} from '../../src/p2p/messages.ts';
import { Block } from '../../src/primitives/block.ts';
import { CommitCertificate } from '../../src/primitives/commit.ts';
import { Header } from '../../src/primitives/header.ts';
import { Transaction } from '../../src/primitives/transaction.ts';
import { blockArb, commitArb, hash32, headerArb, transactionArb } from '../support/arbitraries.ts';

export interface FuzzTarget {
  readonly name: string;
  /** Valid encodings to mutate. */
  readonly valid: fc.Arbitrary<Uint8Array>;
  decode(bytes: Uint8Array): unknown;
  encode(value: unknown): Uint8Array;
}

const statusArb = fc.record({
  protocolVersion: fc.constant(P2P_PROTOCOL_VERSION),
  chainId: fc.stringMatching(/^[a-z0-9-]{1,32}$/),
  genesisHash: hash32,
  tipHeight: fc.nat(0xffff_ffff),
  tipHash: hash32,
});

export const TARGETS: readonly FuzzTarget[] = [
  {
    name: 'transaction',
    valid: transactionArb.map((tx) => tx.encode()),
    decode: (b) => Transaction.decode(b),
    encode: (v) => (v as Transaction).encode(),
  },
  {
    name: 'header',
    valid: headerArb.map((h) => h.encode()),
    decode: (b) => Header.decode(b),
    encode: (v) => (v as Header).encode(),
  },
  {
    name: 'commit',
    valid: commitArb.map((c) => c.encode()),
    decode: (b) => CommitCertificate.decode(b),
    encode: (v) => (v as CommitCertificate).encode(),
  },
  {
    name: 'block',
    valid: blockArb.map((b) => b.encode()),
    decode: (b) => Block.decode(b),
    encode: (v) => (v as Block).encode(),
  },
  {
    name: 'p2p-status',
    valid: statusArb.map(encodeStatus),
    decode: decodeStatus,
    encode: (v) => encodeStatus(v as Parameters<typeof encodeStatus>[0]),
  },
  {
    name: 'p2p-block-with-commit',
    valid: fc
      .tuple(blockArb, commitArb)
      .map(([block, commit]) => ({ block, commit }))
      .map((item) => {
        try {
          return encodeBlockWithCommit(item);
        } catch {
          return new Uint8Array(0);
        }
      }),
    decode: decodeBlockWithCommit,
    encode: (v) => encodeBlockWithCommit(v as Parameters<typeof encodeBlockWithCommit>[0]),
  },
];
