import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  allEntries,
  commitOverlay,
  newOverlay,
  openTestState,
  rollbackOne,
  type TestState,
} from '../../test/support/state-fixture.ts';
import { DecodeError } from '../encoding/errors.ts';
import { bytesKey, compareBytes } from '../util/bytes.ts';
import { type StateKey, StateKeys } from './keys.ts';
import { computeRoot, decodeProof, encodeProof, verifyProof } from './proof.ts';

// A small key space over several namespaces, so random operations collide often.
const KEYS: StateKey[] = [];
for (let i = 0; i < 8; i++) {
  KEYS.push(StateKeys.registry(new Uint8Array(32).fill(i)));
  KEYS.push(StateKeys.stake(new Uint8Array(32).fill(i)));
  KEYS.push(StateKeys.contractStorage(new Uint8Array(32).fill(1), Uint8Array.of(i, i)));
}

type Op = { key: number; value: Uint8Array | null };
const opArb: fc.Arbitrary<Op> = fc.record({
  key: fc.nat({ max: KEYS.length - 1 }),
  value: fc.option(fc.uint8Array({ minLength: 0, maxLength: 6 }), { freq: 3 }),
});
const blocksArb = fc.array(fc.array(opArb, { maxLength: 12 }), { minLength: 1, maxLength: 8 });

type Model = Map<string, { key: StateKey; value: Uint8Array }>;

function applyModel(model: Model, ops: readonly Op[]): Model {
  const next = new Map(model);
  for (const op of ops) {
    const key = KEYS[op.key]!;
    if (op.value === null) next.delete(bytesKey(key));
    else next.set(bytesKey(key), { key, value: op.value });
  }
  return next;
}

function sorted(model: Model) {
  return [...model.values()].sort((a, b) => compareBytes(a.key, b.key));
}

async function applyBlock(t: TestState, ops: readonly Op[]): Promise<Uint8Array> {
  const o = newOverlay(t);
  for (const op of ops) {
    if (op.value === null) o.delete(KEYS[op.key]!);
    else o.put(KEYS[op.key]!, op.value);
  }
  return commitOverlay(t, o);
}

async function checkAgainstModel(t: TestState, model: Model, probe: number, flip: number) {
  const expected = sorted(model);
  assert.deepEqual(t.store.root, computeRoot(expected));
  assert.deepEqual(
    (await allEntries(t)).map((e) => [bytesKey(e.key), bytesKey(e.value)]),
    expected.map((e) => [bytesKey(e.key), bytesKey(e.value)]),
  );
  // A present or absent key: its proof verifies, and fails once any byte changes.
  const key = KEYS[probe % KEYS.length]!;
  const value = model.get(bytesKey(key))?.value ?? null;
  const { proof } = await t.store.prove(key);
  assert.ok(verifyProof(t.store.root, key, value, proof));
  const bytes = encodeProof(proof);
  const altered = new Uint8Array(bytes);
  altered[flip % bytes.length]! ^= 1 << (flip % 8);
  let decoded: ReturnType<typeof decodeProof> | undefined;
  try {
    decoded = decodeProof(altered);
  } catch (error) {
    // A strict decoder refusing the altered proof is a failed proof too.
    if (!(error instanceof DecodeError)) throw error;
    decoded = undefined;
  }
  if (decoded !== undefined) assert.ok(!verifyProof(t.store.root, key, value, decoded));
}

describe('state store properties (real LevelDB)', () => {
  it('root equals a from-scratch rebuild, proofs hold, rollback restores every root', async () => {
    await fc.assert(
      fc.asyncProperty(
        blocksArb,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 4 }),
        async (blocks, probe, flip, retain) => {
          const t = await openTestState(retain);
          try {
            let model: Model = new Map();
            const roots = [t.store.root];
            const models = [model];
            for (const [i, ops] of blocks.entries()) {
              model = applyModel(model, ops);
              await applyBlock(t, ops);
              roots.push(t.store.root);
              models.push(model);
              await checkAgainstModel(t, model, probe + i, flip + i);
            }
            await t.reopen();
            assert.deepEqual(t.store.root, roots[roots.length - 1]);
            // Roll back to the genesis update (height 0 = the first block).
            for (let h = blocks.length - 1; h > 0; h--) {
              assert.deepEqual(await rollbackOne(t), roots[h]);
              await checkAgainstModel(t, models[h]!, probe, flip);
            }
          } finally {
            await t.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('is history-independent: any path to the same entries gives the same root', async () => {
    await fc.assert(
      fc.asyncProperty(blocksArb, async (blocks) => {
        const a = await openTestState(2);
        const b = await openTestState(2);
        try {
          let model: Model = new Map();
          for (const ops of blocks) {
            model = applyModel(model, ops);
            await applyBlock(a, ops);
          }
          const direct = newOverlay(b);
          // Insert in reverse key order, in one block.
          for (const { key, value } of sorted(model).reverse()) direct.put(key, value);
          await commitOverlay(b, direct);
          assert.deepEqual(a.store.root, b.store.root);
        } finally {
          await a.close();
          await b.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
