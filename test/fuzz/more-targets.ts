/**
 * Fuzz targets for the decoders that arrived after the first set: consensus
 * gossip (votes, proposals, evidence), every request/response protocol's
 * request and item, staking payloads and evidence carried in transactions,
 * state proofs (what a wallet checks a node's answer with) and the mempool
 * snapshot file. Same shape and property as targets.ts.
 */
import fc from 'fast-check';
import {
  decodeEvidence as decodeBftEvidence,
  decodeProposal,
  decodeVote,
  type EvidenceMessage,
  encodeEvidence as encodeBftEvidence,
  encodeProposal,
  encodeVote,
  NO_POL_ROUND,
  type ProposalMessage,
  type VoteMessage,
} from '../../src/consensus/bft/messages.ts';
import {
  type DuplicateVoteEvidence,
  decodeEvidence as decodeStakingEvidence,
  encodeEvidence as encodeStakingEvidence,
} from '../../src/consensus/staking/evidence.ts';
import {
  decodeStakingPayload,
  encodeStakingPayload,
  type StakingPayload,
} from '../../src/consensus/staking/payload.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import { getPublicKey } from '../../src/crypto/signer.ts';
import { decodeSnapshot, encodeSnapshot } from '../../src/mempool/snapshot.ts';
import { blockByHashProtocol } from '../../src/p2p/reqresp/protocols/block-by-hash.ts';
import { blocksByRangeProtocol } from '../../src/p2p/reqresp/protocols/blocks-by-range.ts';
import {
  consensusVotesProtocol,
  proposalByHashProtocol,
} from '../../src/p2p/reqresp/protocols/consensus-catchup.ts';
import {
  MAX_BLOCKS_PER_REQUEST,
  MAX_TXIDS_PER_REQUEST,
} from '../../src/p2p/reqresp/protocols/limits.ts';
import { mempoolTxidsProtocol } from '../../src/p2p/reqresp/protocols/mempool-txids.ts';
import { transactionsProtocol } from '../../src/p2p/reqresp/protocols/transactions.ts';
import type { ProtocolDescriptor } from '../../src/p2p/reqresp/types.ts';
import {
  decodeProof,
  EMPTY_TREE_ROOT,
  encodeProof,
  type StateProof,
} from '../../src/state/proof.ts';
import { concatBytes, u32BE } from '../../src/util/bytes.ts';
import { blockArb, hash32, transactionArb } from '../support/arbitraries.ts';
import type { FuzzTarget } from './targets.ts';

const u32 = fc.nat(0xffff_ffff);
const signature64 = fc.uint8Array({ minLength: 64, maxLength: 64 });
/** Compressed public keys that are curve points (decoders check it); made once, point math is slow. */
const PUBKEYS = Array.from({ length: 32 }, (_, seed) =>
  getPublicKey(sha256(concatBytes(new TextEncoder().encode('fuzz-key'), u32BE(seed)))),
);
const pubkeyArb = fc.constantFrom(...PUBKEYS);

const voteArb: fc.Arbitrary<VoteMessage> = fc.record({
  type: fc.constantFrom(1 as const, 2 as const),
  height: u32,
  round: u32,
  blockHash: hash32,
  validatorIndex: fc.nat(0xffff),
  signature: signature64,
});

// A block whose header height is the proposal's: the decoder requires it.
const proposalArb: fc.Arbitrary<ProposalMessage> = fc
  .tuple(
    blockArb,
    fc.nat(1000),
    fc.option(fc.nat(999), { nil: undefined }),
    fc.nat(0xffff),
    signature64,
  )
  .map(([block, round, pol, proposerIndex, signature]) => ({
    height: block.height,
    round,
    polRound: pol === undefined || pol >= round ? NO_POL_ROUND : pol,
    block,
    proposerIndex,
    signature,
  }));

const bftEvidenceArb: fc.Arbitrary<EvidenceMessage> = fc
  .tuple(voteArb, hash32, signature64)
  .map(([voteA, blockHash, signature]) => ({
    kind: 1 as const,
    voteA,
    voteB: { ...voteA, blockHash, signature },
  }));

const stakingEvidenceArb: fc.Arbitrary<DuplicateVoteEvidence> = fc
  .tuple(fc.constantFrom(1, 2), u32, u32, pubkeyArb, hash32, hash32, signature64, signature64)
  .filter(([, , , , a, b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0)
  .map(([voteType, height, round, consensusKey, a, b, signatureA, signatureB]) => {
    const [blockHashA, blockHashB] =
      Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0 ? [a, b] : [b, a];
    return {
      voteType,
      height,
      round,
      consensusKey,
      blockHashA,
      signatureA,
      blockHashB,
      signatureB,
    } as DuplicateVoteEvidence;
  });

const amountArb = fc.bigInt({ min: 1n, max: 21_000_000n * 100_000_000n });
const stakingPayloadArb: fc.Arbitrary<StakingPayload> = fc.oneof(
  fc.record({ kind: fc.constant('bond' as const), amount: amountArb, consensusKey: pubkeyArb }),
  fc.record({ kind: fc.constant('unbond' as const), amount: amountArb }),
  fc.record({ kind: fc.constant('rotateKey' as const), consensusKey: pubkeyArb }),
  fc.constant({ kind: 'unjail' as const }),
  fc.record({ kind: fc.constant('withdraw' as const), creationHeight: u32 }),
);

/** A staking payload as a transaction carries it: the type byte, then the data. */
const framePayload = (p: StakingPayload): Uint8Array => {
  const { type, data } = encodeStakingPayload(p);
  return concatBytes(Uint8Array.of(type), data);
};

const proofArb: fc.Arbitrary<StateProof> = fc
  .tuple(
    fc.array(fc.option(hash32, { nil: null }), { maxLength: 40 }),
    fc.option(fc.tuple(hash32, hash32), { nil: null }),
  )
  .map(([siblings, leaf]) => ({
    // The encoding has no explicit empty sibling.
    siblings: siblings.map((s) =>
      s !== null && Buffer.compare(Buffer.from(s), Buffer.from(EMPTY_TREE_ROOT)) === 0 ? null : s,
    ),
    terminal:
      leaf === null
        ? { kind: 'empty' as const }
        : { kind: 'leaf' as const, keyHash: leaf[0], valueHash: leaf[1] },
  }));

/** The request and the response item of a req/resp protocol, as two targets. */
function protocolTargets<Req, Item>(
  protocol: ProtocolDescriptor<Req, Item>,
  requestArb: fc.Arbitrary<Req>,
  itemArb: fc.Arbitrary<Item> | null,
): FuzzTarget[] {
  const targets: FuzzTarget[] = [
    {
      name: `reqresp-${protocol.name}-request`,
      valid: requestArb.map((r) => protocol.encodeRequest(r)),
      decode: (b) => protocol.decodeRequest(b),
      encode: (v) => protocol.encodeRequest(v as Req),
    },
  ];
  if (itemArb !== null)
    targets.push({
      name: `reqresp-${protocol.name}-item`,
      valid: itemArb.map((i) => protocol.encodeItem(i)),
      decode: (b) => protocol.decodeItem(b),
      encode: (v) => protocol.encodeItem(v as Item),
    });
  return targets;
}

export const MORE_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'consensus-vote',
    valid: voteArb.map(encodeVote),
    decode: decodeVote,
    encode: (v) => encodeVote(v as VoteMessage),
  },
  {
    name: 'consensus-proposal',
    valid: proposalArb.map(encodeProposal),
    decode: decodeProposal,
    encode: (v) => encodeProposal(v as ProposalMessage),
  },
  {
    name: 'consensus-evidence',
    valid: bftEvidenceArb.map(encodeBftEvidence),
    decode: decodeBftEvidence,
    encode: (v) => encodeBftEvidence(v as EvidenceMessage),
  },
  {
    name: 'staking-evidence',
    valid: stakingEvidenceArb.map(encodeStakingEvidence),
    decode: decodeStakingEvidence,
    encode: (v) => encodeStakingEvidence(v as DuplicateVoteEvidence),
  },
  {
    name: 'staking-payload',
    valid: stakingPayloadArb.map(framePayload),
    decode: (b) => decodeStakingPayload({ type: b[0] ?? 0, data: b.subarray(1) }),
    encode: (v) => framePayload(v as StakingPayload),
  },
  {
    name: 'state-proof',
    valid: proofArb.map(encodeProof),
    decode: decodeProof,
    encode: (v) => encodeProof(v as StateProof),
  },
  {
    name: 'mempool-snapshot',
    valid: fc
      .array(fc.record({ time: fc.nat(), tx: transactionArb }), { maxLength: 4 })
      .map((entries) => encodeSnapshot(entries)),
    decode: decodeSnapshot,
    encode: (v) => encodeSnapshot(v as Parameters<typeof encodeSnapshot>[0]),
  },
  ...protocolTargets(blockByHashProtocol, hash32, null),
  ...protocolTargets(
    blocksByRangeProtocol,
    fc.record({ startHeight: u32, count: fc.integer({ min: 1, max: MAX_BLOCKS_PER_REQUEST }) }),
    null,
  ),
  ...protocolTargets(consensusVotesProtocol, fc.record({ height: u32, round: u32 }), voteArb),
  ...protocolTargets(proposalByHashProtocol, hash32, proposalArb),
  ...protocolTargets(
    transactionsProtocol,
    fc.array(hash32, { maxLength: MAX_TXIDS_PER_REQUEST }),
    transactionArb,
  ),
  ...protocolTargets(
    mempoolTxidsProtocol,
    fc.constant(null),
    fc.array(hash32, { minLength: 1, maxLength: 64 }),
  ),
];
