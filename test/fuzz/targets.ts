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
import { API_TARGETS } from './api-targets.ts';
import { CONTRACT_TARGETS } from './contract-targets.ts';
import { MORE_TARGETS } from './more-targets.ts';

export interface FuzzTarget {
  readonly name: string;
  /** Valid encodings to mutate. */
  readonly valid: fc.Arbitrary<Uint8Array>;
  decode(bytes: Uint8Array): unknown;
  encode(value: unknown): Uint8Array;
  /**
   * For formats with many spellings of one value (JSON): an accepted input
   * must re-encode to bytes that decode to the same value, not to the same bytes.
   */
  readonly sameValue?: boolean;
  /** More structure-aware inputs to mix in, valid or not (e.g. a schema's keys with any JSON). */
  readonly extra?: fc.Arbitrary<Uint8Array>;
}

const statusArb = fc
  .record({
    protocolVersion: fc.constant(P2P_PROTOCOL_VERSION),
    chainId: fc.stringMatching(/^[a-z0-9-]{1,32}$/),
    genesisHash: hash32,
    tipHeight: fc.nat(0xffff_ffff),
    tipHash: hash32,
    earliest: fc.nat(0xffff_ffff),
  })
  // A valid status never starts its history above its tip.
  .map(({ earliest, ...s }) => ({ ...s, earliestHeight: Math.min(earliest, s.tipHeight) }));

const FIRST_TARGETS: readonly FuzzTarget[] = [
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
    // The commit must certify the block (height and hash), or every seed is rejected.
    valid: fc
      .tuple(blockArb, commitArb)
      .map(([block, commit]) => ({
        block,
        commit: new CommitCertificate({
          height: block.height,
          round: commit.round,
          blockHash: block.hash,
          signatures: commit.signatures,
        }),
      }))
      .map((item) => encodeBlockWithCommit(item)),
    decode: decodeBlockWithCommit,
    encode: (v) => encodeBlockWithCommit(v as Parameters<typeof encodeBlockWithCommit>[0]),
  },
];

export const TARGETS: readonly FuzzTarget[] = [
  ...FIRST_TARGETS,
  ...MORE_TARGETS,
  ...CONTRACT_TARGETS,
  ...API_TARGETS,
];
