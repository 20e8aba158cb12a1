/**
 * `npm run sim -- --seeds N [--validators 4|7] [--from S]`: runs seeds of the
 * BFT simulation and prints every failing seed with its reason, so
 * `--from S --seeds 1` replays one exactly. Exits 1 if any seed failed.
 */
import { parseArgs } from 'node:util';
import { runSimulation } from './simulation.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1000' },
    validators: { type: 'string', default: '4' },
    from: { type: 'string', default: '1' },
  },
});
const seeds = Number(values.seeds);
const validators = Number(values.validators);
const from = Number(values.from);
let failed = 0;
let heights = 0;
let maxRound = 0;
let maxRoundAfterHeal = 0;
let evidence = 0;
let committedEvidence = 0;
let tombstoned = 0;
let steps = 0;
const started = performance.now();
for (let seed = from; seed < from + seeds; seed++) {
  const r = runSimulation({ seed, validators });
  heights += r.heights;
  maxRound = Math.max(maxRound, r.maxRound);
  maxRoundAfterHeal = Math.max(maxRoundAfterHeal, r.maxRoundAfterHeal);
  evidence += r.evidence;
  committedEvidence += r.committedEvidence;
  tombstoned += r.tombstoned;
  steps += r.steps;
  if (!r.ok) {
    failed++;
    console.log(
      `FAIL seed=${seed} validators=${validators} [${r.behaviours.join(',')}]: ${r.failure}`,
    );
  }
}
const secs = (performance.now() - started) / 1000;
console.log(
  `${seeds - failed} passed, ${failed} failed (validators ${validators}, seeds ${from}..${from + seeds - 1}); ` +
    `heights ${heights}, max round ${maxRound} (${maxRoundAfterHeal} after healing), evidence ${evidence}, ` +
    `committed evidence ${committedEvidence}, tombstoned ${tombstoned}, engine steps ${steps}, ${secs.toFixed(1)} s`,
);
process.exitCode = failed > 0 ? 1 : 0;
