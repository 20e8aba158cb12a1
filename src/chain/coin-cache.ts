/**
 * In-memory UTXO cache: an open-addressing hash table over typed arrays, keyed
 * by 36-byte outpoints (txid || vout LE) and holding opaque 46-byte coin
 * records. A JS Map of objects costs hundreds of bytes per coin; this table
 * costs 83 bytes per slot, at most ~148 per cached coin while it fills (see
 * Growth; it does not shrink after deletes, only on `clear`), and `maxBytes`
 * bounds the bytes it holds at every moment, rehashes included.
 *
 * Layout:
 * - slab: 82-byte slots, key (36) then value (46), in chunks of 2^12 slots
 *   (328 KiB) so the table can grow by adding chunks instead of copying itself.
 * - meta: one byte per slot, in one array so a probe scans contiguous bytes.
 *   Bit 7 is the reference bit for second-chance eviction; bits 0-6 are 0 for
 *   an empty slot, or a 7-bit fingerprint (2..127) of the key's hash for a
 *   live one, so a probe compares key bytes only when the fingerprint matches
 *   (1 time in 126 for a foreign key). 1 marks "pending" during a rehash.
 *
 * Probing is linear from the home slot. Deletion shifts the rest of the probe
 * run back (Knuth's Algorithm R) instead of leaving a tombstone, so the load
 * counts live entries only, lookups never wade through dead slots, and no
 * O(capacity) purge is ever needed. That matters most once the cache is full
 * and every insert evicts: with tombstones each eviction would leave one.
 *
 * Home slots come from a seeded hash: the txid is already a uniform hash, but
 * a peer picks vout freely and could grind txids for a few shared prefix bits,
 * so the first 8 txid bytes and vout go through multiply-xorshift rounds keyed
 * by per-instance random words. The slot index is the hash's high bits scaled
 * to the capacity (multiply-shift), which works for any capacity.
 *
 * Growth: by 4/3, not doubling, so that the load stays between 0.56 and 0.75,
 * i.e. at most 83 / 0.5625 ≈ 148 bytes per cached coin at any size (doubling
 * would allow 221). The rehash is in place: the meta array is copied (1 byte
 * per slot), chunks are appended, and every entry is re-placed by displacement
 * chains through two scratch slots, so the old and new slabs never coexist and
 * nearly the whole budget is usable. The last step is clamped to what
 * `maxBytes` allows; from then on an insert that would push the load past 0.75
 * evicts one entry first (see `evictFrom`).
 */
import { randomBytes } from 'node:crypto';
import { UtxodError } from '../util/index.ts';

export const COIN_KEY_SIZE = 36;
export const COIN_VALUE_SIZE = 46;

export interface CoinCacheOptions {
  /** Upper bound on `allocatedBytes`, held at all times (including while growing). */
  maxBytes: number;
  /** Entries to make room for up front (clamped to what `maxBytes` allows). */
  initialCapacity?: number;
}

export interface CoinCacheStats {
  hits: number;
  misses: number;
  evictions: number;
}

export type CoinCacheErrorReason = 'bad-key-length' | 'bad-value-length' | 'bad-options';

/** Misuse by the caller (wrong sizes, impossible budget); never caused by network input. */
export class CoinCacheError extends UtxodError<'COIN_CACHE_ERROR'> {
  readonly reason: CoinCacheErrorReason;

  constructor(reason: CoinCacheErrorReason, message: string, details: Record<string, unknown>) {
    super('COIN_CACHE_ERROR', `coin cache: ${message}`, { reason, ...details });
    this.reason = reason;
  }
}

const SLOT_SIZE = COIN_KEY_SIZE + COIN_VALUE_SIZE;
const BYTES_PER_SLOT = SLOT_SIZE + 1;
const CHUNK_SHIFT = 12;
const CHUNK_SLOTS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SLOTS - 1;
// Two scratch slots: one holds the entry carried along a displacement chain,
// the other receives the entry it displaces.
const SCRATCH_BYTES = 2 * SLOT_SIZE;

const EMPTY = 0;
const PENDING = 1;
const MIN_TAG = 2;
const TAG_MASK = 0x7f;
const REF = 0x80;

const MAX_LOAD = 0.75;
const GROWTH = 4 / 3;
const MIN_CAPACITY = 8;
// Slot indices stay int32 so that index arithmetic stays on small integers.
const MAX_CAPACITY = 2 ** 31 - 1;
const TWO_POW_32 = 2 ** 32;

/** Bytes held by a table of `capacity` slots. */
function bytesFor(capacity: number): number {
  return SCRATCH_BYTES + capacity * BYTES_PER_SLOT;
}

/** The largest capacity whose table, plus `extra` bytes, fits in `maxBytes`. */
function capacityWithin(maxBytes: number, extra: number): number {
  return Math.min(MAX_CAPACITY, Math.floor((maxBytes - SCRATCH_BYTES - extra) / BYTES_PER_SLOT));
}

// "lowbias32" (Chris Wellons): a bijective 32-bit mixer with low bias. Hashes
// stay int32 throughout: a uint32 above 2^30 is not a small integer to V8 and
// would be boxed (and deoptimize) wherever it crosses a call or a field.
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return x ^ (x >>> 16);
}

function readI32(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
}

function tagOf(hash: number): number {
  const tag = hash & TAG_MASK;
  return tag < MIN_TAG ? tag + MIN_TAG : tag;
}

/** Slot-relative byte offset within its chunk. */
function offsetOf(slot: number): number {
  return (slot & CHUNK_MASK) * SLOT_SIZE;
}

export class CoinCache {
  readonly stats: CoinCacheStats = { hits: 0, misses: 0, evictions: 0 };
  readonly maxBytes: number;

  // chunks[c] holds slots [c * CHUNK_SLOTS, ...); views[c] reads it as
  // unaligned little-endian words, which compares and copies faster than bytes.
  private chunks: Uint8Array[] = [];
  private views: DataView[] = [];
  private meta: Uint8Array;
  private readonly scratch: DataView;
  private cap = 0;
  // cap / 2^32: multiplying a 32-bit hash by it maps the hash onto [0, cap).
  private scale = 0;
  private maxLive = 0;
  private live = 0;
  private readonly minCapacity: number;
  private readonly seed0: number;
  private readonly seed1: number;
  private readonly seed2: number;

  constructor(opts: CoinCacheOptions) {
    const { maxBytes, initialCapacity = 0 } = opts;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < bytesFor(MIN_CAPACITY)) {
      throw new CoinCacheError(
        'bad-options',
        `maxBytes must be an integer >= ${bytesFor(MIN_CAPACITY)} (the smallest table)`,
        { maxBytes },
      );
    }
    if (!Number.isSafeInteger(initialCapacity) || initialCapacity < 0) {
      throw new CoinCacheError('bad-options', 'initialCapacity must be a non-negative integer', {
        initialCapacity,
      });
    }
    this.maxBytes = maxBytes;
    this.minCapacity = Math.min(
      capacityWithin(maxBytes, 0),
      Math.max(MIN_CAPACITY, Math.ceil(initialCapacity / MAX_LOAD)),
    );
    this.scratch = new DataView(new ArrayBuffer(SCRATCH_BYTES));
    this.meta = new Uint8Array(this.minCapacity);
    this.resizeSlab(this.minCapacity);
    this.setCapacity(this.minCapacity);
    const seed = randomBytes(12);
    this.seed0 = seed.readInt32LE(0);
    this.seed1 = seed.readInt32LE(4);
    this.seed2 = seed.readInt32LE(8);
  }

  /** Live entries. */
  get size(): number {
    return this.live;
  }

  /** Slots in the table; live entries are kept at or below 3/4 of them. */
  get capacity(): number {
    return this.cap;
  }

  /** Bytes held by the table's typed arrays; never above `maxBytes`. */
  get allocatedBytes(): number {
    return bytesFor(this.cap);
  }

  /** A copy of the value; counts a hit or miss and marks the entry recently used. */
  get(key: Uint8Array): Uint8Array | undefined {
    checkKey(key);
    const slot = this.probe(key, this.hashKey(key));
    if (slot < 0) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.meta[slot] = this.meta[slot]! | REF;
    const at = offsetOf(slot) + COIN_KEY_SIZE;
    return this.chunks[slot >>> CHUNK_SHIFT]!.slice(at, at + COIN_VALUE_SIZE);
  }

  /** Membership only: no hit/miss counting, no effect on eviction order. */
  has(key: Uint8Array): boolean {
    checkKey(key);
    return this.probe(key, this.hashKey(key)) >= 0;
  }

  /** Inserts or overwrites; may evict other entries to stay within `maxBytes`. */
  set(key: Uint8Array, value: Uint8Array): void {
    checkKey(key);
    if (value.length !== COIN_VALUE_SIZE) {
      throw new CoinCacheError('bad-value-length', `value must be ${COIN_VALUE_SIZE} bytes`, {
        length: value.length,
      });
    }
    const hash = this.hashKey(key);
    let slot = this.probe(key, hash);
    if (slot >= 0) {
      // An overwrite is a use: the chain layer rewrites coins it is working on.
      this.meta[slot] = this.meta[slot]! | REF;
      this.chunks[slot >>> CHUNK_SHIFT]!.set(value, offsetOf(slot) + COIN_KEY_SIZE);
      return;
    }
    if (this.live >= this.maxLive) {
      while (this.live >= this.maxLive) {
        const grown = this.growthTarget();
        if (grown > this.cap) this.grow(grown);
        else this.evictFrom(this.home(hash));
      }
      slot = this.probe(key, hash);
    }
    // probe() returned ~(the empty slot that ends the run).
    slot = ~slot;
    const chunk = this.chunks[slot >>> CHUNK_SHIFT]!;
    const at = offsetOf(slot);
    chunk.set(key, at);
    chunk.set(value, at + COIN_KEY_SIZE);
    // New entries start unreferenced: a coin that is never read again should
    // not outlive one that was.
    this.meta[slot] = tagOf(hash);
    this.live++;
  }

  delete(key: Uint8Array): boolean {
    checkKey(key);
    const slot = this.probe(key, this.hashKey(key));
    if (slot < 0) return false;
    this.removeAt(slot);
    return true;
  }

  /** Drops every entry and gives memory back down to the initial table size. */
  clear(): void {
    this.live = 0;
    if (this.cap === this.minCapacity) {
      this.meta.fill(EMPTY);
      return;
    }
    // Let go of the big table before allocating the small one, so the two
    // never count against the budget together.
    this.chunks = [];
    this.views = [];
    this.meta = new Uint8Array(0);
    this.meta = new Uint8Array(this.minCapacity);
    this.resizeSlab(this.minCapacity);
    this.setCapacity(this.minCapacity);
  }

  private hashKey(key: Uint8Array): number {
    return this.hashWords(readI32(key, 0), readI32(key, 4), readI32(key, 32));
  }

  /** Hash of the key stored at byte `at` of `view`. */
  private hashAt(view: DataView, at: number): number {
    return this.hashWords(
      view.getInt32(at, true),
      view.getInt32(at + 4, true),
      view.getInt32(at + 32, true),
    );
  }

  private hashWords(txid0: number, txid1: number, vout: number): number {
    const h = mix32(mix32(txid0 ^ this.seed0) ^ txid1 ^ this.seed1);
    return mix32(h ^ vout ^ this.seed2);
  }

  private home(hash: number): number {
    return ((hash >>> 0) * this.scale) | 0;
  }

  /**
   * Slot holding `key`, or the bitwise complement of the empty slot that ends
   * its run (where it would go). Terminates: live entries never fill the table.
   */
  private probe(key: Uint8Array, hash: number): number {
    const meta = this.meta;
    const views = this.views;
    const cap = this.cap;
    const tag = tagOf(hash);
    let i = this.home(hash);
    for (;;) {
      const m = meta[i]!;
      if (m === EMPTY) return ~i;
      if ((m & TAG_MASK) === tag && keyAt(views[i >>> CHUNK_SHIFT]!, offsetOf(i), key)) return i;
      if (++i === cap) i = 0;
    }
  }

  /**
   * The capacity to grow to, or `cap` if the budget allows no more. Growing
   * briefly holds the old meta array and, if the last chunk is partial, the
   * old copy of it, so those count against the budget too.
   */
  private growthTarget(): number {
    const partial = (this.cap & CHUNK_MASK) * SLOT_SIZE;
    const affordable = capacityWithin(this.maxBytes, this.cap + partial);
    return Math.max(this.cap, Math.min(affordable, Math.ceil(this.cap * GROWTH)));
  }

  /**
   * Second chance, with the hand put down at the incoming key's home slot:
   * walk forward clearing reference bits and evict the first entry that had
   * none. Each bit cleared was set by an earlier `get` or overwrite, so the
   * walk is O(1) amortized. Evicting where the insert lands keeps the load
   * uniform across the table. A single CLOCK hand sweeping in slot order does
   * not: the slots behind it are freshly emptied and those ahead have filled
   * for a whole revolution, so the load ahead of the hand climbs towards 1
   * and the linear-probing runs there grow without bound (measured: ~1 ms per
   * insert after a few evictions per slot).
   */
  private evictFrom(start: number): void {
    const meta = this.meta;
    const cap = this.cap;
    let i = start;
    for (;;) {
      const m = meta[i]!;
      if (m !== EMPTY) {
        if ((m & REF) === 0) break;
        meta[i] = m & TAG_MASK;
      }
      if (++i === cap) i = 0;
    }
    this.removeAt(i);
    this.stats.evictions++;
  }

  /**
   * Empties slot i, then walks the rest of the run moving back every entry
   * whose probe path crosses the hole, so that no run has a gap.
   */
  private removeAt(i: number): void {
    const meta = this.meta;
    const views = this.views;
    const cap = this.cap;
    let hole = i;
    let j = i;
    for (;;) {
      if (++j === cap) j = 0;
      const m = meta[j]!;
      if (m === EMPTY) break;
      const view = views[j >>> CHUNK_SHIFT]!;
      const home = this.home(this.hashAt(view, offsetOf(j)));
      // The entry stays if its home lies cyclically in (hole, j]: its probe
      // path does not pass the hole.
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        copySlot(views[hole >>> CHUNK_SHIFT]!, offsetOf(hole), view, offsetOf(j));
        meta[hole] = m;
        hole = j;
      }
    }
    meta[hole] = EMPTY;
    this.live--;
  }

  private setCapacity(capacity: number): void {
    this.cap = capacity;
    this.scale = capacity / TWO_POW_32;
    this.maxLive = Math.floor(capacity * MAX_LOAD);
  }

  /** Makes the chunks cover exactly `capacity` slots, keeping existing contents. */
  private resizeSlab(capacity: number): void {
    const count = Math.ceil(capacity / CHUNK_SLOTS);
    this.chunks.length = Math.min(this.chunks.length, count);
    this.views.length = this.chunks.length;
    for (let c = 0; c < count; c++) {
      const bytes = Math.min(CHUNK_SLOTS, capacity - c * CHUNK_SLOTS) * SLOT_SIZE;
      const old = this.chunks[c];
      if (old?.length === bytes) continue;
      const chunk = new Uint8Array(bytes);
      if (old !== undefined) chunk.set(old.subarray(0, Math.min(old.length, bytes)));
      this.chunks[c] = chunk;
      this.views[c] = new DataView(chunk.buffer);
    }
  }

  /**
   * Grows in place. Every old entry is marked pending in the new meta array,
   * then re-placed, top down: the multiply-shift index is monotonic in the
   * hash, so most entries move up into space already settled or still empty,
   * in one copy. An entry whose new slot is still pending (around the
   * wrap-around) swaps with it and the displaced one is carried on. Each step
   * settles one entry, so this ends; and an entry is only ever placed after a
   * run of settled entries, which is what lookups rely on.
   */
  private grow(capacity: number): void {
    const oldCap = this.cap;
    const old = this.meta;
    const meta = new Uint8Array(capacity);
    for (let i = 0; i < oldCap; i++) {
      const m = old[i]!;
      if (m !== EMPTY) meta[i] = (m & REF) | PENDING;
    }
    this.meta = meta;
    this.resizeSlab(capacity);
    this.setCapacity(capacity);
    const views = this.views;
    const scratch = this.scratch;
    for (let i = oldCap - 1; i >= 0; i--) {
      const m = meta[i]!;
      // Skip empty slots and those a displacement chain already settled.
      if ((m & TAG_MASK) !== PENDING) continue;
      let ref = m & REF;
      meta[i] = EMPTY;
      let fromView = views[i >>> CHUNK_SHIFT]!;
      let from = offsetOf(i);
      for (;;) {
        const hash = this.hashAt(fromView, from);
        let j = this.home(hash);
        while ((meta[j]! & TAG_MASK) >= MIN_TAG) if (++j === capacity) j = 0;
        const toView = views[j >>> CHUNK_SHIFT]!;
        const to = offsetOf(j);
        const displaced = meta[j]!;
        meta[j] = tagOf(hash) | ref;
        if (displaced === EMPTY) {
          if (toView !== fromView || to !== from) copySlot(toView, to, fromView, from);
          break;
        }
        // j was pending: park its entry in the free scratch slot, put the
        // carried one in its place, and carry the parked one on.
        const park = fromView === scratch && from === 0 ? SLOT_SIZE : 0;
        copySlot(scratch, park, toView, to);
        copySlot(toView, to, fromView, from);
        fromView = scratch;
        from = park;
        ref = displaced & REF;
      }
    }
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== COIN_KEY_SIZE) {
    throw new CoinCacheError('bad-key-length', `key must be ${COIN_KEY_SIZE} bytes`, {
      length: key.length,
    });
  }
}

function keyAt(view: DataView, at: number, key: Uint8Array): boolean {
  for (let k = 0; k < COIN_KEY_SIZE; k += 4) {
    if (view.getInt32(at + k, true) !== readI32(key, k)) return false;
  }
  return true;
}

function copySlot(to: DataView, toAt: number, from: DataView, fromAt: number): void {
  for (let k = 0; k < SLOT_SIZE - 2; k += 4) to.setInt32(toAt + k, from.getInt32(fromAt + k));
  to.setUint16(toAt + SLOT_SIZE - 2, from.getUint16(fromAt + SLOT_SIZE - 2));
}
