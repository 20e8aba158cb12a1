import { UtxodError } from '../util/index.ts';

export type P2PErrorCode =
  | 'P2P_INVALID_MULTIADDR'
  | 'P2P_INVALID_PEER_ID'
  | 'P2P_IDENTITY_FILE'
  | 'P2P_NOT_STARTED'
  | 'P2P_INVALID_BAN';

export class P2PError extends UtxodError<P2PErrorCode> {}
