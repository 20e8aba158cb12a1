/**
 * `npm run bench [suite...]`: runs the suites in bench/suites and prints every
 * figure with its ratio to the baseline measured in the same run.
 */
import { readdir } from 'node:fs/promises';
import { type BenchResult, type BenchSuite, loadLine, QUICK } from './lib.ts';

/** A figure whose rounds disagree by more than this says so. */
const SPREAD_LIMIT = 0.1;

const suitesDir = new URL('./suites/', import.meta.url);
const wanted = new Set(process.argv.slice(2).filter((a) => !a.startsWith('--')));
const files = (await readdir(suitesDir)).filter((f) => f.endsWith('.ts')).sort();

const results: BenchResult[] = [];
const startedAt = Date.now();
console.log(
  `utxod bench${QUICK ? ' --quick' : ''}, ${new Date().toISOString()}, node ${process.version}, ${loadLine()}`,
);
for (const file of files) {
  const name = file.replace(/\.ts$/, '');
  if (wanted.size > 0 && !wanted.has(name)) continue;
  const mod = (await import(new URL(file, suitesDir).href)) as { run: BenchSuite };
  process.stderr.write(`running ${name}... (${loadLine()})\n`);
  for (const result of await mod.run()) {
    results.push(result);
    console.log(formatResult(result));
  }
}

console.log(`done in ${((Date.now() - startedAt) / 1000).toFixed(0)} s, ${loadLine()}`);

function formatResult(r: BenchResult): string {
  const value = `${r.value.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${r.unit}`;
  let line = `${r.suite.padEnd(12)} ${r.name.padEnd(58)} ${value.padStart(22)}`;
  if (r.ratio !== undefined) line += `  ratio ${r.ratio.toFixed(2)} vs ${r.baselineName}`;
  // One round has no spread to speak of (quick sync): print none rather than 0%.
  if (r.spread !== undefined && !Number.isNaN(r.spread)) {
    line += `  spread ${(r.spread * 100).toFixed(0)}%`;
    if (r.spread > SPREAD_LIMIT) line += ' (SPREAD > 10%)';
  }
  if (r.goal !== undefined) {
    const measured = r.ratio ?? r.value;
    const met = r.goal.better === 'higher' ? measured >= r.goal.value : measured <= r.goal.value;
    line += `  (goal ${r.goal.better === 'higher' ? '>=' : '<='} ${r.goal.value}: ${met ? 'met' : 'NOT MET'})`;
  }
  return line;
}
