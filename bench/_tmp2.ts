import { MuHash3072 } from '../src/crypto/muhash.ts';

const els = Array.from({ length: 5051 }, (_, i) => {
  const e = new Uint8Array(80);
  e[0] = i & 255;
  e[1] = i >> 8;
  return e;
});
const base = new MuHash3072();
base.insert(els[0]!);
for (let r = 0; r < 6; r++) {
  const s = performance.now();
  const m = base.clone();
  for (const e of els) m.remove(e);
  console.log('apply-like', (performance.now() - s).toFixed(1), 'ms');
}
const big: unknown[] = [];
for (let i = 0; i < 300000; i++) big.push({ a: i, b: new Uint8Array(40) });
for (let r = 0; r < 4; r++) {
  const s = performance.now();
  const m = base.clone();
  for (const e of els) m.remove(e);
  console.log('with big heap', (performance.now() - s).toFixed(1), 'ms');
}
console.log(big.length);
