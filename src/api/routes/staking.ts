import { lockToAddress, pubkeyLock } from '../../primitives/index.ts';
import { fromHex, toHex } from '../../util/index.ts';
import { ApiError } from '../errors.ts';
import type { ConsensusQueries, StakingQueries, ValidatorStakeView } from '../queries.ts';
import { withErrors } from '../schemas/common.ts';
import {
  ConsensusResponse,
  EvidenceQuery,
  EvidenceResponse,
  ValidatorParams,
  ValidatorResponse,
  ValidatorsResponse,
} from '../schemas/staking.ts';
import type { ApiApp, ApiContext } from './context.ts';
import { hrpOf } from './json.ts';

type Status = 'active' | 'jailed' | 'tombstoned' | 'inactive';

/** Tombstoned beats jailed beats set membership: a punished validator stays in the sets of H+1 and H+2. */
function statusOf(v: ValidatorStakeView, inSet: boolean): Status {
  if (v.tombstoned) return 'tombstoned';
  if (v.jailedUntilMs > 0) return 'jailed';
  return inSet ? 'active' : 'inactive';
}

/**
 * Validators, committed evidence and the consensus engine's state. All
 * public: the validator set and the registry are chain data every node
 * holds, and the consensus summary is what gossip already tells any peer.
 * Without a staking state (`ctx.staking`) the set is still listed, its
 * registry fields null; without an engine, /consensus answers 503.
 */
export function registerStakingRoutes(app: ApiApp, ctx: ApiContext): void {
  const { chain } = ctx;
  const staking = (): StakingQueries => {
    if (ctx.staking === undefined)
      throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'this node keeps no staking state');
    return ctx.staking;
  };
  const consensus = (): ConsensusQueries => {
    if (ctx.consensus === undefined)
      throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'this node runs no consensus engine');
    return ctx.consensus;
  };
  const operatorOf = (v: ValidatorStakeView) =>
    lockToAddress(pubkeyLock(v.operatorKey), hrpOf(chain.params));

  app.get(
    '/api/v1/validators',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['staking'],
        summary: 'The validator set deciding the next block, with stake, status and liveness',
        response: withErrors({ 200: ValidatorsResponse }),
      },
    },
    async () => {
      const height = chain.tipHeight + 1;
      const set = chain.validatorsAt(height);
      const views = await Promise.all(
        set.validators.map((v) => ctx.staking?.validatorByConsensusKey(v.publicKey)),
      );
      return {
        hash: toHex(set.hash),
        totalPower: set.totalPower.toString(),
        height,
        signedBlocksWindow: ctx.staking?.signedBlocksWindow ?? null,
        validators: set.validators.map((v, index) => {
          const view = views[index];
          return {
            index,
            publicKey: toHex(v.publicKey),
            power: v.power.toString(),
            status: view === undefined ? ('active' as const) : statusOf(view, true),
            validatorId: view === undefined ? null : toHex(view.validatorId),
            operator: view === undefined ? null : operatorOf(view),
            bonded: view === undefined ? null : view.bonded.toString(),
            jailedUntil: view === undefined || view.jailedUntilMs === 0 ? null : view.jailedUntilMs,
            missedBlocks: view === undefined ? null : view.missedBlocks,
          };
        }),
      };
    },
  );

  app.get(
    '/api/v1/validators/:id',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['staking'],
        summary:
          'One registered validator by id or consensus key: stake, unbonding, jail, liveness',
        params: ValidatorParams,
        response: withErrors({ 200: ValidatorResponse }, [404, 503]),
      },
    },
    async (request) => {
      const q = staking();
      const { id } = request.params;
      const view =
        id.length === 64
          ? await q.validator(fromHex(id, 32))
          : await q.validatorByConsensusKey(fromHex(id, 33));
      if (view === undefined) throw new ApiError(404, 'NOT_FOUND', `no validator ${id}`);
      const set = chain.validatorsAt(chain.tipHeight + 1);
      const index = set.indexOf(view.consensusKey);
      const member = index >= 0 ? set.validators[index] : undefined;
      return {
        validatorId: toHex(view.validatorId),
        operator: operatorOf(view),
        operatorKey: toHex(view.operatorKey),
        consensusKey: toHex(view.consensusKey),
        status: statusOf(view, member !== undefined),
        index: member === undefined ? null : index,
        power: (member?.power ?? 0n).toString(),
        bonded: view.bonded.toString(),
        jailedUntil: view.jailedUntilMs === 0 ? null : view.jailedUntilMs,
        tombstoned: view.tombstoned,
        missedBlocks: view.missedBlocks,
        observedBlocks: view.observedBlocks,
        signedBlocksWindow: q.signedBlocksWindow,
        createdHeight: view.createdHeight,
        lastRotation: view.lastRotationMs === 0 ? null : view.lastRotationMs,
        unbonding: view.unbonding.map((u) => ({
          creationHeight: u.creationHeight,
          amount: u.amount.toString(),
          completesAt: u.completesAtMs,
        })),
        unbondingTruncated: view.unbondingTruncated,
      };
    },
  );

  app.get(
    '/api/v1/evidence',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['staking'],
        summary:
          'Validators punished by committed duplicate-vote evidence (slashed, tombstoned), and evidence pending in the pool',
        querystring: EvidenceQuery,
        response: withErrors({ 200: EvidenceResponse }, [503]),
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const page = await staking().tombstoned({
        limit,
        after: after === undefined ? null : fromHex(after, 32),
      });
      return {
        items: page.items.map((v) => ({
          kind: 'duplicate-vote' as const,
          validatorId: toHex(v.validatorId),
          operator: operatorOf(v),
          consensusKey: toHex(v.consensusKey),
          bonded: v.bonded.toString(),
        })),
        next: page.next === null ? null : toHex(page.next),
        pending: (ctx.consensus?.pendingEvidence() ?? []).map((e) => ({
          consensusKey: toHex(e.consensusKey),
          height: e.height,
          round: e.round,
          voteType: e.voteType === 1 ? ('prevote' as const) : ('precommit' as const),
        })),
      };
    },
  );

  app.get(
    '/api/v1/consensus',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['staking'],
        summary: 'The BFT engine now: height, round, step, proposer, votes seen per round',
        response: withErrors({ 200: ConsensusResponse }, [503]),
      },
    },
    async () => {
      const s = consensus().summary();
      if (s === null)
        throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'the consensus engine is not running');
      return {
        height: s.height,
        round: s.round,
        step: s.step,
        lockedRound: s.lockedRound,
        validRound: s.validRound,
        proposer:
          s.proposer === null
            ? null
            : { index: s.proposer.index, publicKey: toHex(s.proposer.publicKey) },
        lastRoundChange:
          s.lastRoundChange === null
            ? null
            : {
                height: s.lastRoundChange.height,
                round: s.lastRoundChange.round,
                at: s.lastRoundChange.atMs,
              },
        rounds: s.rounds.map((r) => ({ ...r })),
      };
    },
  );
}
