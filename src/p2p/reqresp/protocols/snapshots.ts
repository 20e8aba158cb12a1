/**
 * State sync over request/response (docs/p2p.md, docs/protocol.md
 * "Snapshots"): list a peer's snapshots, fetch a manifest, fetch a chunk.
 * The responder serves files as they are; the requester trusts nothing and
 * checks every manifest and chunk against hashes and the chain
 * (snapshot/state-sync.ts), penalising a peer that served wrong bytes.
 */
import { DecodeError, decodeExact, Writer } from '../../../encoding/index.ts';
import { HASH_SIZE } from '../../../primitives/index.ts';
import {
  MAX_CHUNK_BYTES,
  MAX_MANIFEST_BYTES,
  type SnapshotOffer,
} from '../../../snapshot/index.ts';
import { checkSize } from '../../messages.ts';
import type { ProtocolDescriptor } from '../types.ts';
import type { RequestHandler } from './context.ts';

/** What a node serves snapshots from (its SnapshotStore); null: it serves none. */
export interface SnapshotSource {
  /** Complete snapshots, newest first. */
  offers(): Promise<SnapshotOffer[]>;
  /** The manifest bytes of snapshot `id` at `height`, or null. */
  manifest(height: number, id: Uint8Array): Promise<Uint8Array | null>;
  /** Chunk `index` of snapshot `id` at `height`, or null. */
  chunk(height: number, id: Uint8Array, index: number): Promise<Uint8Array | null>;
}

/** Most snapshots one list response names. */
export const MAX_SNAPSHOT_OFFERS = 16;
const OFFER_BYTES = 4 + HASH_SIZE + HASH_SIZE + 4;

export const snapshotsProtocol: ProtocolDescriptor<null, SnapshotOffer> = {
  name: 'snapshots',
  protocolId: '/utxod/snapshots/1',
  maxRequestBytes: 1,
  maxItemBytes: OFFER_BYTES,
  maxResponseItems: MAX_SNAPSHOT_OFFERS,
  timeoutMs: 10_000,
  quota: { requests: 20, perMs: 10_000 },
  encodeRequest: () => Uint8Array.of(0),
  decodeRequest: (bytes) => {
    checkSize(bytes, 1, 'snapshots request');
    if (bytes[0] !== 0) throw new DecodeError('invalid-value', 'snapshots request');
    return null;
  },
  encodeItem: (o) =>
    new Writer(OFFER_BYTES).u32(o.height).bytes(o.blockHash).bytes(o.id).u32(o.chunks).finish(),
  decodeItem: (bytes) =>
    decodeExact(bytes, 'snapshot offer', (r) => ({
      height: r.u32('height'),
      blockHash: r.bytes(HASH_SIZE, 'blockHash'),
      id: r.bytes(HASH_SIZE, 'id'),
      chunks: r.u32('chunks'),
    })),
};

export interface SnapshotManifestRequest {
  readonly height: number;
  readonly id: Uint8Array;
}

const MANIFEST_REQUEST_BYTES = 4 + HASH_SIZE;

export const snapshotManifestProtocol: ProtocolDescriptor<SnapshotManifestRequest, Uint8Array> = {
  name: 'snapshot_manifest',
  protocolId: '/utxod/snapshot_manifest/1',
  maxRequestBytes: MANIFEST_REQUEST_BYTES,
  maxItemBytes: MAX_MANIFEST_BYTES,
  maxResponseItems: 1,
  timeoutMs: 30_000,
  quota: { requests: 20, perMs: 10_000 },
  byteQuota: { requests: 32 * 1024 * 1024, perMs: 10_000 },
  encodeRequest: (req) => new Writer(MANIFEST_REQUEST_BYTES).u32(req.height).bytes(req.id).finish(),
  decodeRequest: (bytes) => {
    checkSize(bytes, MANIFEST_REQUEST_BYTES, 'snapshot_manifest request');
    return decodeExact(bytes, 'snapshot_manifest request', (r) => ({
      height: r.u32('height'),
      id: r.bytes(HASH_SIZE, 'id'),
    }));
  },
  // Opaque here: the requester decodes it strictly and checks its hash is the id it asked for.
  encodeItem: (bytes) => bytes,
  decodeItem: (bytes) => new Uint8Array(bytes),
};

export interface SnapshotChunkRequest extends SnapshotManifestRequest {
  readonly index: number;
}

const CHUNK_REQUEST_BYTES = 4 + HASH_SIZE + 4;

export const snapshotChunkProtocol: ProtocolDescriptor<SnapshotChunkRequest, Uint8Array> = {
  name: 'snapshot_chunk',
  protocolId: '/utxod/snapshot_chunk/1',
  maxRequestBytes: CHUNK_REQUEST_BYTES,
  maxItemBytes: MAX_CHUNK_BYTES,
  maxResponseItems: 1,
  timeoutMs: 30_000,
  // Bounded in bytes: 128 MiB per 10 s per peer.
  quota: { requests: 400, perMs: 10_000 },
  byteQuota: { requests: 128 * 1024 * 1024, perMs: 10_000 },
  encodeRequest: (req) =>
    new Writer(CHUNK_REQUEST_BYTES).u32(req.height).bytes(req.id).u32(req.index).finish(),
  decodeRequest: (bytes) => {
    checkSize(bytes, CHUNK_REQUEST_BYTES, 'snapshot_chunk request');
    return decodeExact(bytes, 'snapshot_chunk request', (r) => ({
      height: r.u32('height'),
      id: r.bytes(HASH_SIZE, 'id'),
      index: r.u32('index'),
    }));
  },
  encodeItem: (bytes) => bytes,
  decodeItem: (bytes) => new Uint8Array(bytes),
};

type Source = () => SnapshotSource | null;

export function snapshotsHandler(source: Source): RequestHandler<null, SnapshotOffer> {
  return async function* () {
    const offers = (await source()?.offers()) ?? [];
    yield* offers.slice(0, MAX_SNAPSHOT_OFFERS);
  };
}

export function snapshotManifestHandler(
  source: Source,
): RequestHandler<SnapshotManifestRequest, Uint8Array> {
  return async function* (req) {
    const bytes = await source()?.manifest(req.height, req.id);
    if (bytes !== null && bytes !== undefined) yield bytes;
  };
}

export function snapshotChunkHandler(
  source: Source,
): RequestHandler<SnapshotChunkRequest, Uint8Array> {
  return async function* (req) {
    const bytes = await source()?.chunk(req.height, req.id, req.index);
    if (bytes !== null && bytes !== undefined) yield bytes;
  };
}
