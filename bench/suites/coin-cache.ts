/**
 * CoinCache: bytes per cached UTXO at 1M entries (the table's own count and
 * the process's), and lookups/inserts per second against the obvious
 * alternative, a Map from latin1-string keys to Uint8Array values, measured
 * here on the same keys in the same order.
 *
 * Keys are generated from an index (random-looking txid, small vout, as in
 * real outpoints) into one reused buffer, so neither side pays for a million
 * key objects and the memory figures are the structures' own. Access order is
 * a random permutation: UTXO lookups have no locality.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { COIN_KEY_SIZE, COIN_VALUE_SIZE, CoinCache } from '../../src/chain/coin-cache.ts';
import { bytesKey } from '../../src/util/bytes.ts';
import { type BenchResult, measureRate, size, timeOnce } from '../lib.ts';

const SUITE = 'coin-cache';
const N = size(1_000_000, 100_000);
const AT = N === 1_000_000 ? '1M' : `${N / 1000}k`;
const BATCH = 10_000;
const BYTES_GOAL = 150;
// Large enough that 1M entries never evict.
const UNBOUNDED = 1 << 30;
// A budget that fills at ~250k entries, for the evicting-insert figure.
const SMALL_BUDGET = 28_000_000;

const key = new Uint8Array(COIN_KEY_SIZE);
const keyView = new DataView(key.buffer);
const value = new Uint8Array(COIN_VALUE_SIZE).fill(0x5a);

/** Writes outpoint number `i` into `key`: distinct for distinct i < 2^29. */
function writeKey(i: number): Uint8Array {
  for (let w = 0; w < 8; w++) keyView.setInt32(w * 4, mix(i * 8 + w), true);
  keyView.setUint32(32, i % 4, true);
  return key;
}

// A bijection on 32-bit integers, so txid word 0 alone tells keys apart.
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return x ^ (x >>> 15);
}

function shuffled(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let seed = 0x2545f491;
  for (let i = n - 1; i > 0; i--) {
    seed = mix(seed + i);
    const j = (seed >>> 0) % (i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

function fillCache(cache: CoinCache, n: number): void {
  for (let i = 0; i < n; i++) cache.set(writeKey(i), value);
}

// The Map stores a copy of the value, as the cache does: callers reuse buffers.
function fillMap(map: Map<string, Uint8Array>, n: number): void {
  for (let i = 0; i < n; i++) map.set(bytesKey(writeKey(i)), value.slice());
}

/** `global.gc`, or V8's gc obtained at runtime when node ran without --expose-gc. */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/** heapUsed + arrayBuffers after full GCs, with time for array buffers to be swept. */
async function heapBytes(gc: (() => void) | undefined): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Bytes retained by what `build` returns: memory with it alive minus memory
 * once it is dropped. Taking the baseline after the build, not before, keeps
 * out whatever the process itself frees meanwhile (startup bytecode and
 * loader buffers: ~4.5 MB here, 4.5 bytes per entry at 1M).
 */
async function retainedBytes(gc: (() => void) | undefined, build: () => object): Promise<number> {
  const holder: { built?: object } = { built: build() };
  const alive = await heapBytes(gc);
  holder.built = undefined;
  return alive - (await heapBytes(gc));
}

export async function run(): Promise<BenchResult[]> {
  const gc = findGc();
  const gcNote = gc === undefined ? ' [no gc: garbage included]' : '';
  const order = shuffled(N);

  // Memory. The worst point while growing is just after a growth step.
  let worstGrowing = 0;
  let allocatedPerEntry = 0;
  let load = 0;
  const cacheRetained = await retainedBytes(gc, () => {
    const cache = new CoinCache({ maxBytes: UNBOUNDED });
    for (let i = 0; i < N; i++) {
      cache.set(writeKey(i), value);
      if (i >= 10_000) worstGrowing = Math.max(worstGrowing, cache.allocatedBytes / cache.size);
    }
    if (cache.size !== N) throw new Error('coin-cache: fill lost entries');
    allocatedPerEntry = cache.allocatedBytes / cache.size;
    load = cache.size / cache.capacity;
    return cache;
  });
  const mapRetained = await retainedBytes(gc, () => {
    const map = new Map<string, Uint8Array>();
    fillMap(map, N);
    return map;
  });

  // Inserts into an empty structure up to 1M entries, growth included; these
  // also build the structures the lookups below run against.
  const map = new Map<string, Uint8Array>();
  const mapFillMs = await timeOnce(() => fillMap(map, N));
  const cache = new CoinCache({ maxBytes: UNBOUNDED });
  const cacheFillMs = await timeOnce(() => fillCache(cache, N));

  let cursor = 0;
  const next = (): number => {
    const i = order[cursor]!;
    cursor = cursor + 1 === N ? 0 : cursor + 1;
    return i;
  };
  let found = 0;
  const batch = (op: () => void) =>
    measureRate(
      () => {
        for (let b = 0; b < BATCH; b++) op();
      },
      { opsPerCall: BATCH },
    );

  const mapGet = await batch(() => {
    if (map.get(bytesKey(writeKey(next()))) !== undefined) found++;
  });
  const cacheGet = await batch(() => {
    if (cache.get(writeKey(next())) !== undefined) found++;
  });
  // Outpoints from N up were never inserted.
  let missing = N;
  const mapMiss = await batch(() => {
    if (map.get(bytesKey(writeKey(missing++))) !== undefined) found--;
  });
  missing = N;
  const cacheMiss = await batch(() => {
    if (cache.get(writeKey(missing++)) !== undefined) found--;
  });
  const mapOverwrite = await batch(() => {
    map.set(bytesKey(writeKey(next())), value.slice());
  });
  const cacheOverwrite = await batch(() => {
    cache.set(writeKey(next()), value);
  });
  if (found <= 0 || cache.size !== N || map.size !== N) throw new Error('coin-cache: bad results');
  map.clear();
  cache.clear();

  // Inserts into a full structure, each one evicting. The Map baseline is a
  // FIFO of the same entry count (a ring of keys: deleting the Map's first
  // key repeatedly is quadratic in V8, which would flatter the cache).
  const full = new CoinCache({ maxBytes: SMALL_BUDGET });
  let fresh = 0;
  while (full.stats.evictions === 0) full.set(writeKey(fresh++), value);
  const limit = full.size;
  const fifo = new Map<string, Uint8Array>();
  const ring: string[] = [];
  for (let i = 0; i < limit; i++) {
    const k = bytesKey(writeKey(i));
    fifo.set(k, value.slice());
    ring.push(k);
  }
  let oldest = 0;
  let fifoFresh = limit;
  const fifoInsert = await batch(() => {
    const k = bytesKey(writeKey(fifoFresh++));
    fifo.set(k, value.slice());
    fifo.delete(ring[oldest]!);
    ring[oldest] = k;
    oldest = oldest + 1 === limit ? 0 : oldest + 1;
  });
  const fullInsert = await batch(() => {
    full.set(writeKey(fresh++), value);
  });
  if (full.allocatedBytes > SMALL_BUDGET || fifo.size !== limit) {
    throw new Error('coin-cache: budget exceeded');
  }

  const bytes = (name: string, perEntry: number, goal: boolean): BenchResult => ({
    suite: SUITE,
    name,
    value: perEntry,
    unit: 'B',
    ...(goal ? { goal: { value: BYTES_GOAL, better: 'lower' as const } } : {}),
  });
  const ops = (name: string, rate: number): BenchResult => ({
    suite: SUITE,
    name,
    value: rate,
    unit: 'ops/s',
  });
  const vs = (name: string, rate: number, baseline: number, baselineName: string) => ({
    ...ops(name, rate),
    ratio: rate / baseline,
    baselineName,
  });
  return [
    bytes(
      `bytes/UTXO at ${AT}: allocatedBytes/size (load ${load.toFixed(2)})`,
      allocatedPerEntry,
      true,
    ),
    bytes(`bytes/UTXO at ${AT}: heapUsed+arrayBuffers retained${gcNote}`, cacheRetained / N, true),
    bytes(`bytes/UTXO, worst point growing 10k..${AT}: allocatedBytes/size`, worstGrowing, true),
    bytes(
      `bytes/UTXO at ${AT}, Map<string, Uint8Array>: retained${gcNote}`,
      mapRetained / N,
      false,
    ),
    ops('Map get, hit (baseline)', mapGet),
    vs(`get, hit, ${AT} entries, random order`, cacheGet, mapGet, 'Map get, hit'),
    ops('Map get, miss (baseline)', mapMiss),
    vs(`get, miss, ${AT} entries`, cacheMiss, mapMiss, 'Map get, miss'),
    ops('Map set, overwrite (baseline)', mapOverwrite),
    vs(
      `set, overwrite, ${AT} entries, random order`,
      cacheOverwrite,
      mapOverwrite,
      'Map set, overwrite',
    ),
    ops(`Map set, insert 0..${AT} (baseline)`, (N / mapFillMs) * 1000),
    vs(
      `set, insert 0..${AT} (growth included)`,
      (N / cacheFillMs) * 1000,
      (N / mapFillMs) * 1000,
      'Map set, insert',
    ),
    ops(`FIFO Map set, full at ${limit} (baseline)`, fifoInsert),
    vs(`set, full at ${limit} entries (each evicts)`, fullInsert, fifoInsert, 'FIFO Map set'),
  ];
}
