import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  allEntries,
  commitOverlay,
  newOverlay,
  openTestState,
  rollbackOne,
  type TestState,
} from '../../test/support/state-fixture.ts';
import { Tag } from '../crypto/hash.ts';
import { DecodeError } from '../encoding/errors.ts';
import { Bucket } from '../storage/buckets.ts';
import { StateError } from './errors.ts';
import { Namespace, StateKeyError, StateKeys } from './keys.ts';
import {
  computeRoot,
  decodeProof,
  EMPTY_TREE_ROOT,
  encodeProof,
  pureHashes,
  STATE_TAGS,
  verifyProof,
} from './proof.ts';
import { hashes } from './tree.ts';

const id = (n: number) => new Uint8Array(32).fill(n);
const v = (s: string) => new TextEncoder().encode(s);

async function countNodes(t: TestState): Promise<number> {
  let n = 0;
  for await (const _ of t.db.range(
    Uint8Array.of(Bucket.stateNode),
    Uint8Array.of(Bucket.stateNode + 1),
  ))
    n++;
  return n;
}

describe('state hashing', () => {
  it('uses the tags of src/crypto/hash.ts, and node:crypto and the pure hashes agree', () => {
    assert.equal(Tag.stateKey, STATE_TAGS.key);
    assert.equal(Tag.stateValue, STATE_TAGS.value);
    assert.equal(Tag.stateLeaf, STATE_TAGS.leaf);
    assert.equal(Tag.stateNode, STATE_TAGS.node);
    assert.equal(Tag.stateEmpty, STATE_TAGS.empty);
    for (let i = 0; i < 50; i++) {
      const a = randomBytes(i);
      const b = randomBytes(32);
      assert.deepEqual(hashes.key(a), pureHashes.key(a));
      assert.deepEqual(hashes.value(a), pureHashes.value(a));
      assert.deepEqual(hashes.leaf(b, b), pureHashes.leaf(b, b));
      assert.deepEqual(hashes.node(b, a), pureHashes.node(b, a));
    }
  });
});

describe('state keys', () => {
  it('rejects wrong sizes and spells the namespace byte first', () => {
    assert.throws(() => StateKeys.registry(new Uint8Array(31)), StateKeyError);
    assert.throws(() => StateKeys.contractStorage(id(1), new Uint8Array(0)), StateKeyError);
    assert.throws(() => StateKeys.validatorSet(-1), StateKeyError);
    assert.equal(StateKeys.stake(id(1))[0], Namespace.stake);
    assert.deepEqual(StateKeys.unbonding(id(1), 258).subarray(33), Uint8Array.of(0, 0, 1, 2));
  });
});

describe('StateStore on LevelDB', () => {
  let t: TestState;
  before(async () => {
    t = await openTestState(3);
  });
  after(async () => {
    await t.close();
  });

  it('starts empty, then writes a genesis update at height 0', async () => {
    assert.equal(t.store.height, -1);
    assert.deepEqual(t.store.root, EMPTY_TREE_ROOT);
    const o = newOverlay(t);
    o.put(StateKeys.registry(id(1)), v('one'));
    const root = await commitOverlay(t, o);
    assert.equal(t.store.height, 0);
    assert.deepEqual(root, computeRoot([{ key: StateKeys.registry(id(1)), value: v('one') }]));
    // A single leaf is the root itself.
    const kh = hashes.key(StateKeys.registry(id(1)));
    assert.deepEqual(root, hashes.leaf(kh, hashes.value(v('one'))));
  });

  it('overlays see their own writes, deletes and merged iteration', async () => {
    const o = newOverlay(t);
    assert.deepEqual(await o.get(StateKeys.registry(id(1))), v('one'));
    o.put(StateKeys.registry(id(0)), v('zero'));
    o.put(StateKeys.stake(id(5)), v('s5'));
    o.delete(StateKeys.registry(id(1)));
    assert.equal(await o.get(StateKeys.registry(id(1))), undefined);
    const child = o.fork();
    child.put(StateKeys.registry(id(2)), v('two'));
    assert.equal(await o.get(StateKeys.registry(id(2))), undefined);
    child.mergeInto(o);
    const reg: string[] = [];
    for await (const e of o.entries(StateKeys.namespace(Namespace.registry))) {
      reg.push(new TextDecoder().decode(e.value));
    }
    assert.deepEqual(reg, ['zero', 'two']);
    // The committed store is untouched until the batch is written.
    assert.deepEqual(await t.store.get(StateKeys.registry(id(1))), v('one'));
    await commitOverlay(t, o);
    assert.equal(await t.store.get(StateKeys.registry(id(1))), undefined);
    const all = await allEntries(t);
    assert.deepEqual(
      all.map((e) => e.key[0]),
      [Namespace.registry, Namespace.registry, Namespace.stake],
    );
    assert.deepEqual(t.store.root, computeRoot(all));
  });

  it('a block with only no-op writes keeps the root and creates no node', async () => {
    const before = t.store.root;
    const nodes = await countNodes(t);
    const o = newOverlay(t);
    o.put(StateKeys.registry(id(0)), v('zero'));
    o.delete(StateKeys.jail(id(9)));
    const update = await t.store.prepare(o, t.store.height + 1);
    assert.deepEqual(update.root, before);
    await t.db.write(update.ops);
    t.store.applyCommitted(update);
    assert.equal(await countNodes(t), nodes);
  });

  it('proves inclusion and exclusion, and rejects any altered byte', async () => {
    const o = newOverlay(t);
    for (let i = 10; i < 40; i++) o.put(StateKeys.stake(id(i)), v(`stake ${i}`));
    const root = await commitOverlay(t, o);
    const present = await t.store.prove(StateKeys.stake(id(17)));
    assert.deepEqual(present.value, v('stake 17'));
    assert.ok(verifyProof(root, StateKeys.stake(id(17)), v('stake 17'), present.proof));
    assert.ok(!verifyProof(root, StateKeys.stake(id(17)), v('stake 18'), present.proof));
    assert.ok(!verifyProof(root, StateKeys.stake(id(17)), null, present.proof));
    const absent = await t.store.prove(StateKeys.stake(id(99)));
    assert.equal(absent.value, null);
    assert.ok(verifyProof(root, StateKeys.stake(id(99)), null, absent.proof));
    assert.ok(!verifyProof(root, StateKeys.stake(id(99)), v('x'), absent.proof));

    const bytes = encodeProof(present.proof);
    assert.deepEqual(encodeProof(decodeProof(bytes)), bytes);
    for (let i = 0; i < bytes.length; i++) {
      const altered = new Uint8Array(bytes);
      altered[i]! ^= 1;
      let proof: ReturnType<typeof decodeProof>;
      try {
        proof = decodeProof(altered);
      } catch (error) {
        assert.ok(error instanceof DecodeError);
        continue;
      }
      assert.ok(!verifyProof(root, StateKeys.stake(id(17)), v('stake 17'), proof), `byte ${i}`);
    }
    assert.throws(() => decodeProof(new Uint8Array([...bytes, 0])), DecodeError);
  });

  it('proves against recent roots and refuses pruned ones', async () => {
    const key = StateKeys.stake(id(12));
    const h0 = t.store.height;
    const root0 = t.store.root;
    for (let i = 0; i < 2; i++) {
      const o = newOverlay(t);
      o.put(key, v(`changed ${i}`));
      await commitOverlay(t, o);
    }
    const old = await t.store.prove(key, { height: h0 });
    assert.deepEqual(old.root, root0);
    assert.ok(verifyProof(root0, key, v('stake 12'), old.proof));
    const byRoot = await t.store.prove(key, { root: root0 });
    assert.equal(byRoot.height, h0);
    assert.deepEqual(byRoot.proof, old.proof);
    const o = newOverlay(t);
    o.put(key, v('changed again'));
    await commitOverlay(t, o);
    await assert.rejects(
      t.store.prove(key, { height: h0 }),
      (e: unknown) => e instanceof StateError && e.code === 'STATE_ROOT_NOT_RETAINED',
    );
    await assert.rejects(
      t.store.prove(key, { root: root0 }),
      (e: unknown) => e instanceof StateError && e.code === 'STATE_ROOT_NOT_RETAINED',
    );
  });

  it('rolls back block by block to the exact previous roots and values, past the window', async () => {
    const roots: Uint8Array[] = [t.store.root];
    const snapshots = [await allEntries(t)];
    for (let b = 0; b < 6; b++) {
      const o = newOverlay(t);
      for (let i = 0; i < 5; i++) o.put(StateKeys.missedBlocks(id(b * 5 + i)), v(`m${b}`));
      o.delete(StateKeys.stake(id(10 + b)));
      roots.push(await commitOverlay(t, o));
      snapshots.push(await allEntries(t));
    }
    for (let b = 6; b > 0; b--) {
      assert.deepEqual(await rollbackOne(t), roots[b - 1]);
      assert.deepEqual(t.store.root, roots[b - 1]);
      assert.deepEqual(await allEntries(t), snapshots[b - 1]);
      // Every node of the restored tree is there: prove a key through it.
      const p = await t.store.prove(StateKeys.stake(id(10 + b - 1)));
      assert.ok(verifyProof(t.store.root, StateKeys.stake(id(10 + b - 1)), p.value, p.proof));
    }
    await t.reopen();
    assert.deepEqual(t.store.root, roots[0]);
  });

  it('keeps only the nodes of the retained roots', async () => {
    const key = StateKeys.contractCode(id(1));
    for (let i = 0; i < 20; i++) {
      const o = newOverlay(t);
      o.put(key, v(`code ${i}`));
      await commitOverlay(t, o);
    }
    const withFew = await countNodes(t);
    for (let i = 0; i < 20; i++) {
      const o = newOverlay(t);
      o.put(key, v(`code again ${i}`));
      await commitOverlay(t, o);
    }
    assert.equal(await countNodes(t), withFew);
  });

  it('verify() recomputes the root and finds a value changed behind its back', async () => {
    const ok = await t.store.verify();
    assert.deepEqual(ok.root, t.store.root);
    assert.ok(ok.entries > 0);
    const victim = (await allEntries(t))[0]!;
    const raw = Uint8Array.of(Bucket.stateValue, ...victim.key);
    await t.db.write([{ type: 'put', key: raw, value: v('tampered') }]);
    await assert.rejects(
      t.store.verify(),
      (e: unknown) => e instanceof StateError && e.code === 'STATE_CORRUPT',
    );
    await t.db.write([{ type: 'put', key: raw, value: victim.value }]);
    await t.store.verify();
  });
});
