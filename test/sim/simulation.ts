/**
 * A seeded, clock-free simulation of the pure BFT engine: N validators over a
 * network that delays, drops, duplicates, reorders and partitions messages,
 * with up to f Byzantine validators. Byzantine behaviour lives here only.
 * Invariants are checked after every step; a failure names its seed.
 */
import { createState, proposalsOf, roundMessages, step } from '../../src/consensus/bft/engine.ts';
import { ProposerPriorities } from '../../src/consensus/bft/proposer.ts';
import {
  type BftAction,
  type BftEvent,
  type BftState,
  DEFAULT_BFT_PARAMS,
  isNil,
  NIL_HASH,
  type SignedProposal,
  type SignedVote,
  type StepResult,
} from '../../src/consensus/bft/types.ts';
import { ValidatorSet } from '../../src/consensus/validator-set.ts';
import type { CommitCertificate } from '../../src/primitives/commit.ts';
import { bytesEqual, bytesKey, toHex } from '../../src/util/bytes.ts';
import { EventQueue, Rng } from './rng.ts';
import { evidenceSlot, MAX_BLOCK_EVIDENCE, SimChain, type SimEvidence } from './sim-chain.ts';

export interface SimBlock {
  readonly height: number;
  readonly round: number;
  readonly proposer: number;
  readonly variant: number;
  /** The simulated host's verdict: Byzantine proposers may propose invalid blocks. */
  readonly valid: boolean;
  /** Duplicate-vote evidence the proposer put in (sim-chain.ts has the rules). */
  readonly evidence: readonly SimEvidence[];
}

export type Behaviour = 'honest' | 'equivocate' | 'amnesia';

export interface SimOptions {
  readonly seed: number;
  readonly validators: number;
  /** Byzantine validators (at most f = floor((n-1)/3)); defaults to a seeded choice in [0, f]. */
  readonly byzantine?: number;
  /** At most this many simulated ms of chaos (a seeded draw) before the network heals. */
  readonly chaosMs?: number;
  /** After healing, every honest validator must commit this many new heights... */
  readonly heightsAfterHeal?: number;
  /** ...within this many simulated ms... */
  readonly livenessMs?: number;
  /** ...and each height begun after healing within rounds 0 to this one. */
  readonly roundsAfterHeal?: number;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  readonly heights: number;
  readonly maxRound: number;
  /** The most rounds an honest validator needed for a height begun after healing. */
  readonly maxRoundAfterHeal: number;
  readonly evidence: number;
  /** Equivocations committed as evidence in final blocks, and validators they tombstoned. */
  readonly committedEvidence: number;
  readonly tombstoned: number;
  readonly equivocations: number;
  readonly steps: number;
  readonly behaviours: readonly Behaviour[];
}

type Message =
  | { kind: 'proposal'; proposal: SignedProposal<SimBlock> }
  | { kind: 'vote'; vote: SignedVote }
  | { kind: 'evidence'; evidence: SimEvidence }
  | { kind: 'sync-request'; height: number }
  | { kind: 'catchup-request'; height: number; rounds: number[] }
  | { kind: 'sync-block'; block: SimBlock; blockHash: Uint8Array; certificate: CommitCertificate };

type SimEvent =
  | { kind: 'deliver'; from: number; to: number; msg: Message }
  | { kind: 'engine'; node: number; event: BftEvent<SimBlock> }
  | { kind: 'regossip'; node: number };

interface SimNode {
  readonly index: number;
  readonly behaviour: Behaviour;
  state: BftState<SimBlock>;
  /** Committed blocks by height (its own chain, served to peers that lag). */
  readonly chain: Map<number, { block: SimBlock; blockHash: Uint8Array; cert: CommitCertificate }>;
  /** Slots (validator/height/round/type) -> hashes of votes its engine took in or flagged. */
  readonly seen: Map<string, Set<string>>;
  readonly evidenceSlots: Set<string>;
  /** Verified evidence waiting for a block, by slot (the node's evidence pool). */
  readonly pool: Map<string, SimEvidence>;
  lastSyncRequest: number;
}

class InvariantError extends Error {}

/** A distinct 32-byte id per block (no hashing: the engine only compares them). */
export function blockHashOf(b: SimBlock): Uint8Array {
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  view.setUint32(0, b.height);
  view.setUint32(4, b.round);
  view.setUint32(8, b.proposer);
  view.setUint32(12, b.variant);
  out[16] = b.valid ? 1 : 2;
  // The evidence too: blocks that differ only in it must not share a hash.
  let digest = 0x811c9dc5;
  for (const e of b.evidence) {
    for (const c of evidenceSlot(e)) digest = Math.imul(digest ^ c.charCodeAt(0), 0x01000193);
  }
  out[17] = b.evidence.length;
  view.setUint32(20, digest >>> 0);
  return out;
}

/** The engine never checks signatures (the driver does): any distinct bytes will do. */
function fakeSignature(validator: number, height: number, round: number, tag: number): Uint8Array {
  const out = new Uint8Array(64);
  const view = new DataView(out.buffer);
  view.setUint32(0, validator);
  view.setUint32(4, height);
  view.setUint32(8, round);
  view.setUint32(12, tag);
  return out;
}

export function runSimulation(opts: SimOptions): SimResult {
  const rng = new Rng(opts.seed);
  const n = opts.validators;
  const f = Math.floor((n - 1) / 3);
  const byz = Math.min(opts.byzantine ?? rng.int(0, f), f);
  const behaviours: Behaviour[] = Array.from({ length: n }, () => 'honest');
  const byzIdx = shuffle(rng, [...Array(n).keys()]).slice(0, byz);
  for (const i of byzIdx) behaviours[i] = rng.chance(0.5) ? 'equivocate' : 'amnesia';

  const keys = Array.from({ length: n }, (_, i) => {
    const k = new Uint8Array(33);
    k[0] = 2;
    k[32] = i + 1;
    return k;
  });
  // Equal power mostly; sometimes skewed, as long as the Byzantine side stays under a third.
  let powers = keys.map(() => BigInt(rng.chance(0.3) ? rng.int(1, 3) : 1));
  let byzPower = 0n;
  for (const i of byzIdx) byzPower += powers[i]!;
  if (byzPower * 3n >= powers.reduce((a, b) => a + b, 0n)) powers = keys.map(() => 1n);
  const set = new ValidatorSet(keys.map((publicKey, i) => ({ publicKey, power: powers[i]! })));
  const honestIdx = [...Array(n).keys()].filter((i) => behaviours[i] === 'honest');
  const params = {
    ...DEFAULT_BFT_PARAMS,
    timeoutCommitMs: 200,
  };
  const genesis = ProposerPriorities.genesis(set);
  // Keys sort by their last byte, so validator i of the genesis set is node i.
  const nodes: SimNode[] = keys.map((k, i) => ({
    index: i,
    behaviour: behaviours[i]!,
    state: createState<SimBlock>({ params, height: 1, proposers: genesis, self: k }),
    chain: new Map(),
    seen: new Map(),
    evidenceSlots: new Set(),
    pool: new Map(),
    lastSyncRequest: -1e9,
  }));

  const chaosMs = rng.int(1_000, opts.chaosMs ?? 30_000);
  const livenessMs = opts.livenessMs ?? 90_000;
  const heightsAfterHeal = opts.heightsAfterHeal ?? 2;
  // Round robin gives every validator a turn, messages now arrive within 200 ms and
  // timeouts are seconds: a few rounds suffice (20,000 seeds needed at most round 2 with
  // 4 validators, round 3 with 7).
  const roundsAfterHeal = opts.roundsAfterHeal ?? 5;
  const drop = rng.next() * 0.3;
  const dup = rng.next() * 0.2;
  const maxDelay = rng.int(10, 3_000);
  // Partition episodes: [start, end) with a side assignment.
  const partitions: { start: number; end: number; side: boolean[] }[] = [];
  for (let t = rng.int(0, 3_000); t < chaosMs; t += rng.int(1_000, 8_000)) {
    const len = rng.int(500, 6_000);
    partitions.push({
      start: t,
      end: Math.min(t + len, chaosMs),
      side: nodes.map(() => rng.chance(0.5)),
    });
  }

  const committed = new Map<number, string>();
  const chain = new SimChain(set, keys);
  /** Equivocations an honest node recorded as evidence: each must end committed (or its validator tombstoned). */
  const seenEquivocations = new Map<string, number>();
  const queue = new EventQueue<SimEvent>();
  let now = 0;
  let steps = 0;
  let maxRound = 0;
  let evidence = 0;
  let equivocations = 0;
  let heightAtHeal = -1;
  let maxRoundAfterHeal = 0;

  const healed = () => now >= chaosMs;
  const cut = (a: number, b: number) =>
    partitions.some((p) => now >= p.start && now < p.end && p.side[a] !== p.side[b]);

  function send(from: number, to: number, msg: Message): void {
    if (from === to) {
      queue.push(now, { kind: 'deliver', from, to, msg });
      return;
    }
    if (!healed()) {
      if (cut(from, to) || rng.chance(drop)) return;
    }
    const bound = healed() ? 200 : maxDelay;
    queue.push(now + rng.int(1, bound), { kind: 'deliver', from, to, msg });
    if (rng.chance(dup)) queue.push(now + rng.int(1, bound), { kind: 'deliver', from, to, msg });
  }

  function broadcast(from: number, msg: Message, to?: readonly number[]): void {
    for (const node of to ?? nodes.map((x) => x.index)) send(from, node, msg);
  }

  function feed(node: SimNode, event: BftEvent<SimBlock>): void {
    if (node.behaviour === 'amnesia') {
      // Forgets its lock before every step: prevotes whatever is proposed.
      node.state = { ...node.state, lockedRound: -1, lockedHash: null };
    }
    const result: StepResult<SimBlock> = step(node.state, event);
    steps++;
    node.state = result.state;
    if (result.state.round > maxRound) maxRound = result.state.round;
    if (
      node.behaviour === 'honest' &&
      heightAtHeal !== -1 &&
      result.state.height > heightAtHeal &&
      result.state.round > roundsAfterHeal
    ) {
      throw new InvariantError(
        `liveness: node ${node.index} reached round ${result.state.round} of height ` +
          `${result.state.height}, begun after healing`,
      );
    }
    if (event.kind === 'vote' && node.behaviour === 'honest') trackSeen(node, event.vote, result);
    for (const action of result.actions) perform(node, action);
    checkEvidence(node, event);
  }

  function trackSeen(node: SimNode, v: SignedVote, r: StepResult<SimBlock>): void {
    if (r.dropped !== undefined && r.dropped !== 'duplicate' && r.dropped !== 'equivocation')
      return;
    const slot = `${v.validatorIndex}/${v.height}/${v.round}/${v.type}`;
    let s = node.seen.get(slot);
    if (s === undefined) {
      s = new Set();
      node.seen.set(slot, s);
    }
    s.add(bytesKey(v.blockHash));
  }

  function checkEvidence(node: SimNode, event: BftEvent<SimBlock>): void {
    if (node.behaviour !== 'honest' || event.kind !== 'vote') return;
    const v = event.vote;
    const slot = `${v.validatorIndex}/${v.height}/${v.round}/${v.type}`;
    const hashes = node.seen.get(slot);
    if (hashes !== undefined && hashes.size > 1 && !node.evidenceSlots.has(slot)) {
      throw new InvariantError(
        `node ${node.index} saw equivocation ${slot} but recorded no evidence`,
      );
    }
  }

  function signVote(
    node: SimNode,
    a: Extract<BftAction<SimBlock>, { kind: 'broadcast-vote' }>,
    hash: Uint8Array,
  ): SignedVote {
    return {
      type: a.type,
      height: a.height,
      round: a.round,
      blockHash: hash,
      validatorIndex: node.state.me,
      signature: fakeSignature(node.index, a.height, a.round, a.type * 256 + hash[16]! + hash[15]!),
    };
  }

  function propose(
    node: SimNode,
    height: number,
    round: number,
    polRound: number,
    block: SimBlock,
  ): void {
    const mk = (b: SimBlock): SignedProposal<SimBlock> => {
      const blockHash = blockHashOf(b);
      return {
        height,
        round,
        polRound,
        blockHash,
        block: b,
        proposerIndex: node.state.me,
        signature: fakeSignature(node.index, height, round, 1000 + b.variant),
      };
    };
    const p = mk(block);
    if (node.behaviour === 'equivocate' && polRound === -1) {
      // Two different blocks to two halves of the network (and maybe an invalid one).
      const other = mk({ ...block, variant: block.variant + 1, valid: rng.chance(0.5) });
      const [a, b] = halves(node.index);
      broadcast(node.index, { kind: 'proposal', proposal: p }, a);
      broadcast(node.index, { kind: 'proposal', proposal: other }, b);
      return;
    }
    broadcast(node.index, { kind: 'proposal', proposal: p });
  }

  /**
   * The evidence a proposer of `height` puts in: pooled pieces of lower
   * heights, oldest first, at most MAX_BLOCK_EVIDENCE; those the chain
   * refuses leave the pool (EvidenceIntake.leftOut). An equivocator
   * sometimes censors all of it.
   */
  function pickEvidence(node: SimNode, height: number): SimEvidence[] {
    if (node.behaviour === 'equivocate' && rng.chance(0.5)) return [];
    const candidates = [...node.pool.values()]
      .filter((e) => e.height < height)
      .sort((a, b) => a.height - b.height)
      .slice(0, MAX_BLOCK_EVIDENCE);
    const chosen: SimEvidence[] = [];
    for (const e of candidates) {
      if (chain.refusal(e, height, chosen) === null) chosen.push(e);
      else node.pool.delete(evidenceSlot(e));
    }
    return chosen;
  }

  function halves(self: number): [number[], number[]] {
    const others = shuffle(
      rng,
      nodes.map((x) => x.index).filter((i) => i !== self),
    );
    const k = rng.int(0, others.length);
    return [[self, ...others.slice(0, k)], others.slice(k)];
  }

  function perform(node: SimNode, a: BftAction<SimBlock>): void {
    switch (a.kind) {
      case 'request-proposal': {
        const valid = node.behaviour === 'honest' || rng.chance(0.7);
        propose(node, a.height, a.round, -1, {
          height: a.height,
          round: a.round,
          proposer: node.index,
          variant: 0,
          valid,
          evidence: pickEvidence(node, a.height),
        });
        return;
      }
      case 'broadcast-proposal':
        propose(node, a.height, a.round, a.polRound, a.block);
        return;
      case 'broadcast-vote': {
        const v = signVote(node, a, a.blockHash);
        if (node.behaviour === 'equivocate' && rng.chance(0.7)) {
          const otherHash = bytesEqual(a.blockHash, NIL_HASH)
            ? blockHashOf({
                height: a.height,
                round: a.round,
                proposer: node.index,
                variant: 9,
                valid: true,
                evidence: [],
              })
            : NIL_HASH;
          const w = signVote(node, a, otherHash);
          equivocations++;
          chain.genuine.add(
            evidenceSlot({ node: node.index, height: a.height, round: a.round, type: a.type }),
          );
          const [x, y] = halves(node.index);
          broadcast(node.index, { kind: 'vote', vote: v }, x);
          broadcast(node.index, { kind: 'vote', vote: w }, y);
          return;
        }
        broadcast(node.index, { kind: 'vote', vote: v });
        return;
      }
      case 'schedule-timeout':
        queue.push(now + a.durationMs, {
          kind: 'engine',
          node: node.index,
          event: { kind: 'timeout', height: a.height, round: a.round, step: a.step },
        });
        return;
      case 'validate-proposal':
        queue.push(now + rng.int(0, 50), {
          kind: 'engine',
          node: node.index,
          event: {
            kind: 'proposal-validated',
            height: a.height,
            blockHash: a.blockHash,
            valid:
              a.block.valid &&
              bytesEqual(blockHashOf(a.block), a.blockHash) &&
              chain.blockRefusal(a.block) === null,
          },
        });
        return;
      case 'commit':
        commit(node, a.block, a.blockHash, a.certificate, true);
        return;
      case 'evidence': {
        const { voteA, voteB } = a;
        if (
          voteA.validatorIndex !== voteB.validatorIndex ||
          voteA.height !== voteB.height ||
          voteA.round !== voteB.round ||
          voteA.type !== voteB.type ||
          bytesEqual(voteA.blockHash, voteB.blockHash)
        ) {
          throw new InvariantError(`node ${node.index} recorded malformed evidence`);
        }
        node.evidenceSlots.add(
          `${voteA.validatorIndex}/${voteA.height}/${voteA.round}/${voteA.type}`,
        );
        const offender = chain.nodeOf(
          node.state.proposers.set.validators[voteA.validatorIndex]!.publicKey,
        );
        const e: SimEvidence = {
          node: offender,
          height: voteA.height,
          round: voteA.round,
          type: voteA.type,
        };
        const slot = evidenceSlot(e);
        if (node.behaviour === 'honest') {
          if (!chain.genuine.has(slot)) {
            throw new InvariantError(
              `node ${node.index} recorded evidence ${slot} of no equivocation`,
            );
          }
          evidence++;
          if (!seenEquivocations.has(slot)) seenEquivocations.set(slot, offender);
        }
        // Pooled and gossiped once, as the node does (an equivocator keeps quiet about itself).
        if (offender !== node.index && !node.pool.has(slot)) {
          node.pool.set(slot, e);
          broadcast(node.index, { kind: 'evidence', evidence: e });
        }
        return;
      }
      case 'round-changed':
        return;
    }
  }

  function commit(
    node: SimNode,
    block: SimBlock,
    blockHash: Uint8Array,
    cert: CommitCertificate,
    own: boolean,
  ): void {
    const height = node.state.height;
    const refusal = chain.blockRefusal(block);
    if (node.behaviour === 'honest') {
      if (!block.valid || refusal !== null)
        throw new InvariantError(
          `node ${node.index} committed an invalid block at ${height}${refusal === null ? '' : ` (${refusal})`}`,
        );
      if (!bytesEqual(node.state.proposers.set.hash, chain.setAt(height).hash)) {
        throw new InvariantError(`node ${node.index} decided ${height} with another validator set`);
      }
      const key = toHex(blockHash);
      const prior = committed.get(height);
      if (prior !== undefined && prior !== key) {
        throw new InvariantError(`two blocks committed at height ${height}`);
      }
      committed.set(height, key);
      const signers = chain.setAt(height);
      let power = 0n;
      for (const s of cert.signatures) power += signers.validators[s.validatorIndex]!.power;
      if (own && (!signers.hasQuorum(power) || !bytesEqual(cert.blockHash, blockHash))) {
        throw new InvariantError(`node ${node.index} built a certificate without a quorum`);
      }
    }
    if (node.behaviour === 'honest' && heightAtHeal !== -1 && height > heightAtHeal) {
      maxRoundAfterHeal = Math.max(maxRoundAfterHeal, node.state.round);
    }
    node.chain.set(height, { block, blockHash, cert });
    chain.add(block);
    for (const e of block.evidence) node.pool.delete(evidenceSlot(e));
    queue.push(now, {
      kind: 'engine',
      node: node.index,
      event: { kind: 'block-committed', height, validators: chain.setAt(height + 1) },
    });
  }

  function deliver(from: number, node: SimNode, msg: Message): void {
    switch (msg.kind) {
      case 'vote':
      case 'proposal': {
        const h = msg.kind === 'vote' ? msg.vote.height : msg.proposal.height;
        if (h > node.state.height && now - node.lastSyncRequest > 500) {
          node.lastSyncRequest = now;
          send(node.index, from, { kind: 'sync-request', height: node.state.height });
        }
        feed(
          node,
          msg.kind === 'vote'
            ? { kind: 'vote', vote: msg.vote }
            : { kind: 'proposal', proposal: msg.proposal },
        );
        return;
      }
      case 'evidence': {
        // The pool's checks (a real equivocation, not from the future, a
        // validator of that height) stand in for the signature checks.
        const e = msg.evidence;
        const slot = evidenceSlot(e);
        if (!chain.genuine.has(slot) || e.height > node.state.height) return;
        if (chain.setAt(e.height).indexOf(keys[e.node]!) === -1) return;
        if (e.node !== node.index && !node.pool.has(slot)) node.pool.set(slot, e);
        return;
      }
      case 'sync-request':
        for (let h = msg.height; node.chain.has(h); h++) {
          const c = node.chain.get(h)!;
          send(node.index, from, {
            kind: 'sync-block',
            block: c.block,
            blockHash: c.blockHash,
            certificate: c.cert,
          });
        }
        return;
      case 'catchup-request': {
        // Request/response catch-up: everything held for those rounds of the height.
        if (msg.height !== node.state.height) return;
        for (const round of msg.rounds) {
          const m = roundMessages(node.state, round);
          const rs = node.state.rounds.get(round);
          // Every proposal held (an equivocating proposer's other one too), as proposal_by_hash serves them.
          for (const proposal of rs === undefined ? [] : proposalsOf(rs)) {
            send(node.index, from, { kind: 'proposal', proposal });
          }
          for (const vote of m.votes) send(node.index, from, { kind: 'vote', vote });
        }
        return;
      }
      case 'sync-block': {
        // Block sync: a block at our height with a certificate of +2/3 is final.
        if (msg.block.height !== node.state.height || node.state.step === 'commit') return;
        const signers = chain.setAt(msg.block.height);
        let power = 0n;
        for (const s of msg.certificate.signatures)
          power += signers.validators[s.validatorIndex]!.power;
        if (!signers.hasQuorum(power) || !bytesEqual(msg.certificate.blockHash, msg.blockHash))
          return;
        node.state = { ...node.state, step: 'commit' };
        commit(node, msg.block, msg.blockHash, msg.certificate, false);
        return;
      }
    }
  }

  /** Gossip never resends: each node re-sends its own messages of the current height, as catch-up would fetch them. */
  function regossip(node: SimNode): void {
    const s = node.state;
    for (const [round, rs] of s.rounds) {
      if (round < s.round - 1 || s.me < 0) continue;
      for (const v of [rs.prevotes[s.me]?.[0], rs.precommits[s.me]?.[0]]) {
        if (v !== undefined) broadcast(node.index, { kind: 'vote', vote: v });
      }
    }
    // Ask one peer for what it holds of our round and of the proposal's POL round.
    const rounds = [s.round];
    const pol = s.rounds.get(s.round)?.proposal?.polRound ?? -1;
    if (pol >= 0) rounds.push(pol);
    if (s.validRound >= 0 && s.validRound !== s.round) rounds.push(s.validRound);
    const peer = rng.pick(nodes.filter((x) => x.index !== node.index)).index;
    send(node.index, peer, { kind: 'catchup-request', height: s.height, rounds });
  }

  for (const node of nodes) {
    queue.push(0, { kind: 'engine', node: node.index, event: { kind: 'start' } });
    queue.push(rng.int(0, 1000), { kind: 'regossip', node: node.index });
  }

  const unsettled = () =>
    [...seenEquivocations].filter(([slot, offender]) => !chain.settled(slot, offender));
  const honestHeight = () => {
    let min = Number.MAX_SAFE_INTEGER;
    for (const i of honestIdx) min = Math.min(min, nodes[i]!.state.height);
    return min;
  };
  try {
    for (;;) {
      const next = queue.pop();
      if (next === undefined) throw new InvariantError('event queue ran dry');
      now = next.at;
      if (heightAtHeal === -1 && healed()) {
        heightAtHeal = Math.max(...honestIdx.map((i) => nodes[i]!.state.height));
      }
      if (heightAtHeal !== -1) {
        // Done: every honest validator went on, and every equivocation an honest
        // node saw is committed evidence (or its validator was tombstoned for another).
        if (
          next.item.kind === 'engine' &&
          honestHeight() >= heightAtHeal + heightsAfterHeal &&
          unsettled().length === 0
        )
          break;
        if (now > chaosMs + livenessMs) {
          const open = unsettled().map(([slot]) => slot);
          throw new InvariantError(
            `liveness: honest heights ${honestIdx.map((i) => nodes[i]!.state.height).join(',')} ` +
              `did not pass ${heightAtHeal + heightsAfterHeal}` +
              (open.length === 0 ? '' : ` or equivocations ${open.join(' ')} were not committed`) +
              ` within ${livenessMs} ms of healing; ` +
              nodes.map((x) => describeNode(x)).join('; '),
          );
        }
      }
      const ev = next.item;
      if (ev.kind === 'deliver') deliver(ev.from, nodes[ev.to]!, ev.msg);
      else if (ev.kind === 'engine') feed(nodes[ev.node]!, ev.event);
      else {
        regossip(nodes[ev.node]!);
        queue.push(now + 1000, ev);
      }
    }
  } catch (error) {
    if (!(error instanceof InvariantError)) throw error;
    return {
      seed: opts.seed,
      ok: false,
      failure: `${error.message} (t=${now} ms)`,
      heights: committed.size,
      maxRound,
      maxRoundAfterHeal,
      evidence,
      committedEvidence: chain.committedEvidence,
      tombstoned: chain.tombstoned,
      equivocations,
      steps,
      behaviours,
    };
  }
  return {
    seed: opts.seed,
    ok: true,
    heights: committed.size,
    maxRound,
    maxRoundAfterHeal,
    evidence,
    committedEvidence: chain.committedEvidence,
    tombstoned: chain.tombstoned,
    equivocations,
    steps,
    behaviours,
  };
}

function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function describeNode(node: SimNode): string {
  const s = node.state;
  const rs = s.rounds.get(s.round);
  const tally = (votes: readonly (readonly SignedVote[] | undefined)[] | undefined) =>
    (votes ?? [])
      .map((slot) =>
        slot === undefined
          ? '-'
          : slot.map((v) => (isNil(v.blockHash) ? 'n' : toHex(v.blockHash).slice(0, 4))).join('|'),
      )
      .join(',');
  return (
    `#${node.index} h${s.height} r${s.round} ${s.step} lock ${s.lockedRound} valid ${s.validRound} ` +
    `pv[${tally(rs?.prevotes)}] pc[${tally(rs?.precommits)}] prop ${rs?.proposal ? toHex(rs.proposal.blockHash).slice(0, 4) : '-'}`
  );
}
