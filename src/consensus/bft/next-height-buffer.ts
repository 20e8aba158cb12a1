import { toHex } from '../../util/index.ts';
import type { ProposalMessage, VoteMessage } from './messages.ts';

/**
 * Proposals and votes of the next height that arrive while this node is
 * still committing the current one. Validators that commit sooner start the
 * next height and gossip its proposal and votes at once; gossip does not
 * resend, so a node that dropped them waited for catch-up (two 1 s ticks) or a
 * round timeout before it could vote. Held here, they are fed through the
 * normal checks (signature, proposer, penalties for the peer that sent them)
 * as soon as the node enters that height.
 *
 * Nothing is verified on the way in (the next height's validator set is the
 * engine's to decide), so the buffer is bounded and first-come: a peer that
 * floods it leaves this node no worse off than dropping everything, as it did
 * before. Only the earliest rounds are kept, where a new height's messages are.
 */
export interface NextHeightLimits {
  readonly maxVotes: number;
  readonly maxProposals: number;
  /** Rounds 0..maxRound only. */
  readonly maxRound: number;
}

export interface HeldMessages {
  readonly votes: readonly { readonly peerId: string; readonly vote: VoteMessage }[];
  readonly proposals: readonly { readonly peerId: string; readonly proposal: ProposalMessage }[];
}

export class NextHeightBuffer {
  private readonly limits: NextHeightLimits;
  private height = -1;
  private votes: { peerId: string; vote: VoteMessage }[] = [];
  private proposals: { peerId: string; proposal: ProposalMessage }[] = [];
  private readonly seen = new Set<string>();

  constructor(limits: NextHeightLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this.votes.length + this.proposals.length;
  }

  /** False when the message was not kept (full, too late a round, a duplicate, an older height). */
  holdVote(peerId: string, vote: VoteMessage): boolean {
    if (!this.admit(vote.height, vote.round)) return false;
    if (this.votes.length >= this.limits.maxVotes) return false;
    const key = `v${vote.type}/${vote.round}/${vote.validatorIndex}/${toHex(vote.signature)}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.votes.push({ peerId, vote });
    return true;
  }

  holdProposal(peerId: string, proposal: ProposalMessage): boolean {
    if (!this.admit(proposal.height, proposal.round)) return false;
    if (this.proposals.length >= this.limits.maxProposals) return false;
    const key = `p${proposal.round}/${proposal.proposerIndex}/${toHex(proposal.signature)}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.proposals.push({ peerId, proposal });
    return true;
  }

  /**
   * What is held for `height` (emptying the buffer), or null if nothing is.
   * Messages of a lower height are thrown away: the node went past them.
   */
  takeFor(height: number): HeldMessages | null {
    if (this.size === 0 || height < this.height) return null;
    const held = height === this.height ? { votes: this.votes, proposals: this.proposals } : null;
    this.clear(-1);
    return held;
  }

  private admit(height: number, round: number): boolean {
    if (round > this.limits.maxRound || height < this.height) return false;
    if (height > this.height) this.clear(height);
    return true;
  }

  private clear(height: number): void {
    this.height = height;
    this.votes = [];
    this.proposals = [];
    this.seen.clear();
  }
}
