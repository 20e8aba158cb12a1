import { type Static, Type } from 'typebox';
import { Hash32, Height, Timestamp } from './common.ts';

export const NodeStatusResponse = Type.Object({
  version: Type.String(),
  chainId: Type.String(),
  network: Type.String(),
  uptimeSeconds: Type.Number({ minimum: 0 }),
  tip: Type.Object({ height: Height, hash: Hash32, time: Timestamp, ageMs: Type.Integer() }),
  /** Lowest stored height: 0, or the snapshot height a state-synced or imported chain began at. */
  earliestHeight: Height,
  syncing: Type.Boolean(),
  sync: Type.Union([
    Type.Null(),
    Type.Object({
      state: Type.Union([Type.Literal('idle'), Type.Literal('syncing'), Type.Literal('synced')]),
      currentHeight: Height,
      targetHeight: Height,
      blocksPerSecond: Type.Number({ minimum: 0 }),
      etaSeconds: Type.Union([Type.Null(), Type.Number({ minimum: 0 })]),
    }),
  ]),
  /** The state sync this process ran or is running (docs/operations.md); null when none. */
  stateSync: Type.Union([
    Type.Null(),
    Type.Object({
      phase: Type.Union([
        Type.Literal('discovering'),
        Type.Literal('fetching'),
        Type.Literal('done'),
      ]),
      /** The snapshot's height; null while discovering. */
      height: Type.Union([Type.Null(), Height]),
      chunksDone: Type.Integer({ minimum: 0 }),
      chunksTotal: Type.Integer({ minimum: 0 }),
      bytesDone: Type.Integer({ minimum: 0 }),
      etaSeconds: Type.Union([Type.Null(), Type.Number({ minimum: 0 })]),
      /** Peers asked (discovering) or serving the snapshot (fetching, done). */
      peers: Type.Integer({ minimum: 0 }),
      /** Where this node's history begins once done: the snapshot height. */
      earliestHeight: Type.Union([Type.Null(), Height]),
    }),
  ]),
  peers: Type.Integer({ minimum: 0 }),
  listenAddrs: Type.Array(Type.String()),
  mempool: Type.Object({ size: Type.Integer(), bytes: Type.Integer() }),
});
export type NodeStatusResponse = Static<typeof NodeStatusResponse>;

const ComponentState = Type.Object({
  ok: Type.Boolean(),
  detail: Type.String(),
});

export const ReadinessResponse = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not-ready')]),
  components: Type.Object({
    database: ComponentState,
    chain: ComponentState,
    tip: ComponentState,
    sync: ComponentState,
  }),
});
export type ReadinessResponse = Static<typeof ReadinessResponse>;

export const LivenessResponse = Type.Object({ status: Type.Literal('alive') });

export const LogLevel = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
);
export const LogLevelBody = Type.Object({ level: LogLevel }, { additionalProperties: false });
export const LogLevelResponse = Type.Object({ level: Type.String() });
export type LogLevelResponse = Static<typeof LogLevelResponse>;

export const BackupBody = Type.Object(
  { includeKeys: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type BackupBody = Static<typeof BackupBody>;
export const BackupResponse = Type.String({
  format: 'binary',
  description: 'the backup file (application/octet-stream), docs/operations.md',
});
export const FlushResponse = Type.Object({ path: Type.String(), txs: Type.Integer() });
export type FlushResponse = Static<typeof FlushResponse>;
export const DropResponse = Type.Object({ dropped: Type.Integer({ minimum: 0 }) });
export type DropResponse = Static<typeof DropResponse>;
