import { UtxodError } from '../../util/index.ts';
import { ApiError } from '../errors.ts';
import { withErrors } from '../schemas/common.ts';
import {
  BanBody,
  BanListResponse,
  BanRecordSchema,
  PeerListResponse,
  PeerParams,
  UnbanResponse,
} from '../schemas/peers.ts';
import type { ApiApp, ApiContext, PeerAdmin } from './context.ts';

/**
 * Operator control of peers on a running node. Without a P2P layer (tests,
 * a node started without networking) the routes answer 503.
 */
export function registerPeerRoutes(app: ApiApp, ctx: ApiContext): void {
  const peers = (): PeerAdmin => {
    const admin = ctx.admin.peers;
    if (admin === undefined)
      throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'this node runs no P2P layer');
    return admin;
  };
  /** Invalid peer ids that pass the pattern but not libp2p's parser are the caller's fault. */
  const badPeerId = (error: unknown): never => {
    if (error instanceof UtxodError && error.code === 'P2P_INVALID_PEER_ID') {
      throw new ApiError(400, 'VALIDATION_ERROR', error.message);
    }
    throw error;
  };

  app.get(
    '/api/v1/admin/peers',
    {
      config: { auth: 'admin', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'Connected peers with their score and handshake status',
        response: withErrors({ 200: PeerListResponse }, [503]),
      },
    },
    async () => ({ peers: peers().listPeers() }),
  );

  app.get(
    '/api/v1/admin/peers/bans',
    {
      config: { auth: 'admin', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'Banned peers (persisted, expiring)',
        response: withErrors({ 200: BanListResponse }, [503]),
      },
    },
    async () => ({ bans: await peers().listBans() }),
  );

  app.post(
    '/api/v1/admin/peers/:peerId/ban',
    {
      config: { auth: 'admin', auditAction: 'peer.ban', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'Ban a peer and disconnect it',
        params: PeerParams,
        body: BanBody,
        response: withErrors({ 200: BanRecordSchema }, [503]),
      },
    },
    async (request) => {
      const { durationMs, reason } = request.body ?? {};
      return peers()
        .ban(request.params.peerId, durationMs, reason ?? 'operator')
        .catch(badPeerId);
    },
  );

  app.delete(
    '/api/v1/admin/peers/:peerId/ban',
    {
      config: { auth: 'admin', auditAction: 'peer.unban', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'Lift a ban',
        params: PeerParams,
        response: withErrors({ 200: UnbanResponse }, [503]),
      },
    },
    async (request) => ({ unbanned: await peers().unban(request.params.peerId).catch(badPeerId) }),
  );
}
