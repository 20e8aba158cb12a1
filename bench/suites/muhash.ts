/**
 * MuHash3072: the per-output cost of maintaining the UTXO-set commitment, the
 * one-off cost of finalizing it, and whether the special-form reduction mod
 * 2^3072 - 1103717 beats bigint `%` (both measured here, on the same operands).
 */
import { MUHASH_MODULUS, MuHash3072, mulModP } from '../../src/crypto/muhash.ts';
import { type BenchResult, measureRate, timeOnce } from '../lib.ts';

const SUITE = 'muhash';
const BATCH = 256;

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

export async function run(): Promise<BenchResult[]> {
  const data = elements(BATCH);

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
  finals.sort((a, b) => a - b);
  const finalizeMs = finals[Math.floor(finals.length / 2)]!;

  // Same operands, same loop shape: only the reduction differs.
  const a = randomResidue(1);
  const b = randomResidue(2);
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
  // Read both chains so neither loop is dead code (a product of units is never 0).
  if (x === 0n || y === 0n) throw new Error('muhash: zero product');

  return [
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
