/**
 * State sync: join a chain from a snapshot that peers offer instead of
 * replaying every block. Coded against `SnapshotPeers` (the node adapts its
 * p2p request/response client), so it runs the same in unit tests and over
 * libp2p. Every manifest and chunk is checked before it is used; a peer that
 * served wrong bytes is reported with the error's penalty and not asked
 * again, and the sync goes on with the others.
 */
import type { Logger } from 'pino';
import type { BatchVerifier, ValidatorSet } from '../consensus/index.ts';
import { sha256 } from '../crypto/index.ts';
import { asError, bytesEqual, bytesKey, toHex } from '../util/index.ts';
import { SnapshotError } from './errors.ts';
import { decodeManifest, type Manifest, manifestId } from './format.ts';
import { type RebuildProgress, rebuildChain } from './rebuild.ts';
import { type TrustAnchor, verifyManifest } from './verify.ts';

/** One snapshot a peer offers. */
export interface SnapshotOffer {
  readonly height: number;
  readonly blockHash: Uint8Array;
  /** SHA-256 of the manifest bytes. */
  readonly id: Uint8Array;
  readonly chunks: number;
}

export interface SnapshotPeers {
  /** Peers to ask (connected, handshaken). */
  peers(): string[];
  offers(peer: string): Promise<SnapshotOffer[]>;
  manifest(peer: string, height: number, id: Uint8Array): Promise<Uint8Array>;
  chunk(peer: string, height: number, id: Uint8Array, index: number): Promise<Uint8Array>;
  report(peer: string, penalty: number, reason: string): void;
}

export interface StateSyncOptions {
  /** Where the chain database is built (must not exist). */
  readonly chainDir: string;
  /** A snapshot is taken only when at least this many peers offer it. */
  readonly minPeers: number;
  /** Chunks in flight at once. */
  readonly concurrency: number;
  /** Per chunk request. */
  readonly chunkTimeoutMs: number;
  /** Rounds over all offering peers before a chunk is given up. */
  readonly chunkRounds: number;
  /** Give up discovery after this long without an acceptable snapshot. */
  readonly discoverTimeoutMs: number;
  readonly trusted: TrustAnchor | null;
}

export interface StateSyncModules {
  readonly peers: SnapshotPeers;
  readonly chainIdHash: Uint8Array;
  readonly genesisHash: Uint8Array;
  readonly genesisValidators: ValidatorSet;
  readonly verifier: BatchVerifier;
  readonly logger: Logger;
  readonly onProgress?: (status: StateSyncStatus) => void;
}

export interface StateSyncStatus {
  readonly phase: 'discovering' | 'fetching' | 'done';
  readonly height: number | null;
  readonly chunksDone: number;
  readonly chunksTotal: number;
  readonly bytesDone: number;
  /** Seconds left at the current rate; null until measurable. */
  readonly etaSeconds: number | null;
  /** Peers asked for snapshots (discovering), or good peers serving the chosen one. */
  readonly peers: number;
}

export class StateSync {
  private readonly opts: StateSyncOptions;
  private readonly modules: StateSyncModules;
  /** Peers that served wrong data: never asked again in this sync. */
  private readonly bad = new Set<string>();
  /** Manifest ids whose content failed verification: never fetched again. */
  private readonly rejected = new Set<string>();
  /** The peers offering the snapshot being fetched. */
  private serving: string[] = [];
  private current: StateSyncStatus = {
    phase: 'discovering',
    height: null,
    chunksDone: 0,
    chunksTotal: 0,
    bytesDone: 0,
    etaSeconds: null,
    peers: 0,
  };

  constructor(opts: StateSyncOptions, modules: StateSyncModules) {
    this.opts = opts;
    this.modules = modules;
  }

  status(): StateSyncStatus {
    return this.current;
  }

  /** Runs to completion: the chain database at `chainDir` holds the verified snapshot. */
  async run(signal?: AbortSignal): Promise<Manifest> {
    const deadline = Date.now() + this.opts.discoverTimeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      const pick = await this.discover();
      if (pick !== null) {
        const manifest = await this.fetchManifest(pick.offer, pick.peers);
        if (manifest !== null && (await this.tryFetch(manifest, pick, signal))) {
          this.update({ phase: 'done', etaSeconds: 0 });
          return manifest;
        }
      }
      if (Date.now() > deadline) {
        throw new SnapshotError(
          'SNAPSHOT_LOCAL',
          `no snapshot offered by ${this.opts.minPeers} peers that verifies, after ${this.opts.discoverTimeoutMs} ms`,
        );
      }
      await sleep(1000, signal);
    }
  }

  /**
   * Fetches and rebuilds one snapshot; false when it failed in a way another
   * snapshot or another try can get past. Chunks that match the manifest but
   * whose content the roots refuse mean the snapshot itself is bad: every
   * peer that offered it is blamed and it is never picked again. Chunks no
   * peer would serve (timeouts) blame nobody; discovery simply runs again.
   */
  private async tryFetch(
    manifest: Manifest,
    pick: { offer: SnapshotOffer; peers: string[] },
    signal?: AbortSignal,
  ): Promise<boolean> {
    try {
      await this.fetch(manifest, pick.offer, pick.peers, signal);
      return true;
    } catch (error) {
      if (!(error instanceof SnapshotError) || signal?.aborted === true) throw error;
      if (error.code !== 'SNAPSHOT_LOCAL') {
        this.rejected.add(bytesKey(pick.offer.id));
        for (const peer of pick.peers) this.blame(peer, error);
      }
      this.modules.logger.warn(
        { height: manifest.height, code: error.code, reason: error.reason },
        'state sync: snapshot failed; looking for another',
      );
      this.update({
        phase: 'discovering',
        height: null,
        chunksDone: 0,
        chunksTotal: 0,
        bytesDone: 0,
        etaSeconds: null,
      });
      return false;
    }
  }

  /** The newest snapshot that at least `minPeers` good peers offer, and those peers. */
  private async discover(): Promise<{ offer: SnapshotOffer; peers: string[] } | null> {
    const { peers } = this.modules;
    const asked = peers.peers().filter((p) => !this.bad.has(p));
    this.update({ peers: asked.length });
    const answers = await Promise.all(
      asked.map(async (peer) => {
        try {
          return { peer, offers: await peers.offers(peer) };
        } catch (error) {
          this.modules.logger.debug({ peer, err: asError(error).message }, 'no snapshot list');
          return { peer, offers: [] };
        }
      }),
    );
    const byId = new Map<string, { offer: SnapshotOffer; peers: string[] }>();
    for (const { peer, offers } of answers) {
      for (const offer of offers) {
        const key = bytesKey(offer.id);
        const entry = byId.get(key) ?? { offer, peers: [] };
        if (!entry.peers.includes(peer)) entry.peers.push(peer);
        byId.set(key, entry);
      }
    }
    const { trusted } = this.opts;
    const candidates = [...byId.values()]
      .filter(
        (c) => c.peers.length >= this.opts.minPeers && !this.rejected.has(bytesKey(c.offer.id)),
      )
      // With a trusted anchor only that block's snapshot will do; newer ones are not wrong, just not usable.
      .filter(
        (c) =>
          trusted === null ||
          (c.offer.height === trusted.height && bytesEqual(c.offer.blockHash, trusted.hash)),
      )
      .sort((a, b) => b.offer.height - a.offer.height);
    this.modules.logger.info(
      { peers: asked.length, candidates: candidates.map((c) => [c.offer.height, c.peers.length]) },
      'state sync: snapshots offered',
    );
    return candidates[0] ?? null;
  }

  private async fetchManifest(offer: SnapshotOffer, offering: string[]): Promise<Manifest | null> {
    for (const peer of offering) {
      if (this.bad.has(peer)) continue;
      let bytes: Uint8Array;
      try {
        bytes = await this.modules.peers.manifest(peer, offer.height, offer.id);
      } catch (error) {
        this.modules.logger.debug({ peer, err: asError(error).message }, 'manifest request failed');
        continue;
      }
      try {
        if (!bytesEqual(manifestId(bytes), offer.id))
          throw new SnapshotError('SNAPSHOT_MALFORMED', 'manifest does not hash to the offered id');
        const manifest = decodeManifest(bytes);
        if (manifest.height !== offer.height || manifest.chunkHashes.length !== offer.chunks)
          throw new SnapshotError('SNAPSHOT_BAD_CONTENT', 'manifest differs from the offer');
        await verifyManifest(manifest, {
          chainIdHash: this.modules.chainIdHash,
          genesisValidators: this.modules.genesisValidators,
          trusted: this.opts.trusted,
          verifier: this.modules.verifier,
        });
        return manifest;
      } catch (error) {
        if (!(error instanceof SnapshotError)) throw error;
        this.blame(peer, error);
        // Every peer offering the same id serves the same bytes: it is the snapshot that is bad.
        for (const p of offering) if (p !== peer) this.blame(p, error);
        return null;
      }
    }
    return null;
  }

  private async fetch(
    manifest: Manifest,
    offer: SnapshotOffer,
    offering: string[],
    signal?: AbortSignal,
  ): Promise<void> {
    const started = Date.now();
    const total = manifest.chunkHashes.length;
    this.serving = offering;
    this.update({
      phase: 'fetching',
      height: manifest.height,
      chunksTotal: total,
      peers: this.goodServing(),
    });
    this.modules.logger.info(
      { height: manifest.height, id: toHex(offer.id), chunks: total, peers: offering.length },
      'state sync: fetching snapshot',
    );
    const fetchChunk = async (index: number): Promise<Uint8Array> => {
      const expected = manifest.chunkHashes[index]!;
      for (let round = 0; round < this.opts.chunkRounds; round++) {
        const good = offering.filter((p) => !this.bad.has(p));
        if (good.length === 0) break;
        for (let k = 0; k < good.length; k++) {
          signal?.throwIfAborted();
          const peer = good[(index + k + round) % good.length]!;
          if (this.bad.has(peer)) continue;
          let bytes: Uint8Array;
          try {
            bytes = await withTimeout(
              this.modules.peers.chunk(peer, offer.height, offer.id, index),
              this.opts.chunkTimeoutMs,
            );
          } catch (error) {
            this.modules.logger.debug(
              { peer, index, err: asError(error).message },
              'chunk request failed; trying another peer',
            );
            continue;
          }
          if (!bytesEqual(sha256(bytes), expected)) {
            this.blame(
              peer,
              new SnapshotError(
                'SNAPSHOT_CHUNK_HASH',
                `chunk ${index} does not match the manifest`,
              ),
            );
            continue;
          }
          return bytes;
        }
        await sleep(500 * (round + 1), signal);
      }
      throw new SnapshotError('SNAPSHOT_LOCAL', `no peer served chunk ${index} correctly`);
    };
    await rebuildChain(
      { chainDir: this.opts.chainDir, concurrency: this.opts.concurrency },
      {
        manifest,
        genesisHash: this.modules.genesisHash,
        fetchChunk,
        onProgress: (p: RebuildProgress) => {
          const elapsed = (Date.now() - started) / 1000;
          const rate = p.chunksDone / Math.max(elapsed, 0.001);
          this.update({
            chunksDone: p.chunksDone,
            bytesDone: p.bytesDone,
            etaSeconds: Math.round((p.chunksTotal - p.chunksDone) / rate),
          });
        },
      },
    );
    this.modules.logger.info(
      { height: manifest.height, chunks: total, seconds: (Date.now() - started) / 1000 },
      'state sync: snapshot verified and written',
    );
  }

  private blame(peer: string, error: SnapshotError): void {
    // Parallel requests can catch the same peer twice: it is reported once.
    if (this.bad.has(peer)) return;
    this.modules.logger.warn(
      { event: 'snapshot-peer-misbehaved', peer, code: error.code, reason: error.reason },
      'peer served a bad snapshot',
    );
    if (error.penalty > 0) this.modules.peers.report(peer, error.penalty, error.message);
    this.bad.add(peer);
    if (this.current.phase === 'fetching') this.update({ peers: this.goodServing() });
  }

  private goodServing(): number {
    return this.serving.filter((p) => !this.bad.has(p)).length;
  }

  private update(change: Partial<StateSyncStatus>): void {
    this.current = { ...this.current, ...change };
    this.modules.onProgress?.(this.current);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
