/**
 * Runs a fixed set of contract calls and prints one fingerprint per line.
 * Used by test/contracts/determinism.test.ts in a separate process, so that
 * two processes' results can be compared byte for byte.
 */
import { ContractSandbox } from '../../src/vm/index.ts';
import {
  callOnce,
  exampleContract,
  fingerprint,
  MemoryContractStorage,
} from './contract-fixture.ts';

export function determinismRuns(sandbox: ContractSandbox): string[] {
  const lines: string[] = [];
  const storage = new MemoryContractStorage();
  const vesting = exampleContract('vesting.js');
  const init = callOnce(sandbox, vesting, 'init', ['02aa', 10_000n, 10, 1000], { storage });
  storage.commit(init);
  lines.push(fingerprint(init));
  for (let h = 0; h < 1100; h += 137) {
    lines.push(fingerprint(callOnce(sandbox, vesting, 'vested', [h], { storage, readOnly: true })));
  }
  const heavy = `
    export function f(ctx, n) {
      const words = [];
      for (let i = 0; i < n; i++) words.push(String(i * 7919 % 1000).padStart(4, '0'));
      const sorted = words.toSorted();
      const counts = {};
      for (const w of sorted) counts[w[0]] = (counts[w[0]] ?? 0) + 1;
      ctx.storage.set('counts', counts);
      ctx.emit('done', { first: sorted[0], last: sorted[sorted.length - 1] });
      return JSON.stringify(counts) + sorted.join('').length;
    }`;
  for (const n of [1, 10, 100, 1000]) lines.push(fingerprint(callOnce(sandbox, heavy, 'f', [n])));
  lines.push(
    fingerprint(callOnce(sandbox, 'export function f() { let s = "ab"; for (;;) s += s; }', 'f')),
  );
  return lines;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  const sandbox = new ContractSandbox();
  process.stdout.write(`${determinismRuns(sandbox).join('\n')}\n`);
  sandbox.dispose();
}
