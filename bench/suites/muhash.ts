/**
 * MuHash3072: the per-element cost of maintaining the UTXO-set commitment
 * (before and after the SIMD keystream, in alternating rounds), where that
 * cost goes, the one-off cost of finalizing, and whether the special-form
 * reduction mod 2^3072 - 1103717 beats bigint `%` (both on the same operands).
 */
import { reversedKeystreamHex, reversedKeystreamScalar } from '../../src/crypto/chacha20-simd.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import {
  MUHASH_MODULUS,
  MuHash3072,
  mulModP,
  num3072FromData,
  reduceModP,
} from '../../src/crypto/muhash.ts';
import {
  alternate,
  type BenchResult,
  measureRate,
  median,
  pairedRatio,
  size,
  spreadOf,
  timeOnce,
} from '../lib.ts';

const SUITE = 'muhash';
const BATCH = 256;
const ROUNDS = size(7, 5);
const ROUND_MS = size(400, 150);

/** 36-byte outpoint-like elements (txid || vout), distinct so no work is cached. */
function elements(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const e = new Uint8Array(36);
    new DataView(e.buffer).setUint32(0, i, true);
    e.fill(0xa5, 4, 32);
    out.push(e);
  }
  return out;
}

function randomResidue(seed: number): bigint {
  let x = BigInt(seed) + 0x9e3779b97f4a7c15n;
  let acc = 0n;
  // xorshift-ish filler: the operand only needs to be full-width, not random.
  for (let i = 0; i < 48; i++) {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    acc = (acc << 64n) | x;
  }
  return acc % MUHASH_MODULUS;
}

/** The element as it was made before the SIMD keystream: @noble/ciphers' scalar ChaCha20. */
function num3072Scalar(data: Uint8Array): bigint {
  const ks = reversedKeystreamScalar(sha256(data));
  return reduceModP(BigInt(`0x${Buffer.from(ks).toString('hex')}`));
}

const perUs = (rate: number): number => 1e6 / rate;

export async function run(): Promise<BenchResult[]> {
  const data = elements(BATCH);
  const keys = data.map((d) => sha256(d));
  const hexes = keys.map((k) => reversedKeystreamHex(k));
  const b = randomResidue(2);
  let sink = 1n;
  const rate = (fn: () => void): Promise<number> =>
    measureRate(fn, { opsPerCall: BATCH, minMs: ROUND_MS, warmupCalls: 2 });

  // Before (scalar ChaCha20) and after, and each step of an element, interleaved.
  const r = await alternate(ROUNDS, {
    before: () =>
      rate(() => {
        for (const e of data) sink = mulModP(sink, num3072Scalar(e));
      }),
    after: () =>
      rate(() => {
        for (const e of data) sink = mulModP(sink, num3072FromData(e));
      }),
    sha: () =>
      rate(() => {
        for (const e of data) sha256(e);
      }),
    chachaScalar: () =>
      rate(() => {
        for (const k of keys) reversedKeystreamScalar(k);
      }),
    chachaSimd: () =>
      rate(() => {
        for (const k of keys) reversedKeystreamHex(k);
      }),
    parse: () =>
      rate(() => {
        for (const h of hexes) sink ^= BigInt(`0x${h}`) & 1n;
      }),
    mulmod: () =>
      rate(() => {
        for (let i = 0; i < BATCH; i++) sink = mulModP(sink | 1n, b);
      }),
  });

  const acc = new MuHash3072();
  const inserts = await measureRate(
    () => {
      for (const e of data) acc.insert(e);
    },
    { opsPerCall: BATCH },
  );
  const removes = await measureRate(
    () => {
      for (const e of data) acc.remove(e);
    },
    { opsPerCall: BATCH },
  );

  // Finalize after both halves are non-trivial, so the inverse is really taken.
  const finals: number[] = [];
  for (let i = 0; i < 20; i++) finals.push(await timeOnce(() => acc.finalize()));
  const finalizeMs = median(finals);

  // Same operands, same loop shape: only the reduction differs.
  const a = randomResidue(1);
  if (mulModP(a, b) !== (a * b) % MUHASH_MODULUS) throw new Error('muhash: reductions disagree');
  let x = a;
  const special = await measureRate(
    () => {
      for (let i = 0; i < BATCH; i++) x = mulModP(x, b);
    },
    { opsPerCall: BATCH },
  );
  let y = a;
  const generic = await measureRate(
    () => {
      for (let i = 0; i < BATCH; i++) y = (y * b) % MUHASH_MODULUS;
    },
    { opsPerCall: BATCH },
  );
  // Read every chain so no loop is dead code (a product of units is never 0).
  if (x === 0n || y === 0n || sink === 0n) throw new Error('muhash: zero product');

  const step = (name: string, rates: number[]): BenchResult => ({
    suite: SUITE,
    name: `per element: ${name}`,
    value: perUs(median(rates)),
    unit: 'us',
    spread: spreadOf(rates),
  });
  const gain = pairedRatio(r.after, r.before);
  return [
    {
      suite: SUITE,
      name: 'element + mulmod, scalar JS ChaCha20 (before, baseline)',
      value: perUs(median(r.before)),
      unit: 'us',
      spread: spreadOf(r.before),
    },
    {
      suite: SUITE,
      name: 'element + mulmod, WASM SIMD ChaCha20 (after)',
      value: perUs(median(r.after)),
      unit: 'us',
      ratio: gain.ratio,
      spread: gain.spread,
      baselineName: 'before (speed-up, higher is better)',
      goal: { value: 1, better: 'higher' },
    },
    step('SHA256 (native one-shot)', r.sha),
    step('ChaCha20 384 B, scalar JS (before)', r.chachaScalar),
    step('ChaCha20 384 B + hex, WASM SIMD (after)', r.chachaSimd),
    step('hex -> bigint', r.parse),
    step('mulmod (multiply + special-form reduction)', r.mulmod),
    { suite: SUITE, name: 'insert (SHA256 + ChaCha20 + mulmod)', value: inserts, unit: 'ops/s' },
    { suite: SUITE, name: 'remove (SHA256 + ChaCha20 + mulmod)', value: removes, unit: 'ops/s' },
    {
      suite: SUITE,
      name: 'finalize (one inverse + mulmod + SHA256)',
      value: finalizeMs,
      unit: 'ms',
    },
    { suite: SUITE, name: 'mulmod, bigint % p (baseline)', value: generic, unit: 'ops/s' },
    {
      suite: SUITE,
      name: 'mulmod, special-form reduction',
      value: special,
      unit: 'ops/s',
      ratio: special / generic,
      baselineName: 'mulmod, bigint % p (baseline)',
      goal: { value: 1, better: 'higher' },
    },
  ];
}
