/**
 * The double-sign guard, one position rule per test, each on its own state
 * file: a lower round or step at the same height, a lower height at any
 * round, and a state file damaged in each of its fields. Written so that the
 * mutants Stryker found surviving the original tests are killed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generatePrivateKey, getPublicKey } from '../crypto/signer.ts';
import { VoteType } from '../primitives/commit.ts';
import { DoubleSignError, SignerStateError, ValidatorSigner } from './validator-signer.ts';

const dir = mkdtempSync(join(tmpdir(), 'utxod-signer-rules-'));
const privateKey = generatePrivateKey();
const key = { privateKey, publicKey: getPublicKey(privateKey) };
const chainIdHash = new Uint8Array(32).fill(7);
const block = (n: number) => new Uint8Array(32).fill(n);
let files = 0;

/** A signer on a fresh state file (or on `path`, to reopen it). */
function open(path = join(dir, `state-${files++}.json`)): { s: ValidatorSigner; path: string } {
  return { s: new ValidatorSigner({ statePath: path, chainIdHash }, { key }), path };
}

describe('validator signer: the double-sign guard', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a new signer has signed nothing', () => {
    const { s } = open();
    assert.equal(s.lastSignedHeight, 0);
    assert.equal(s.lastSignedRound, 0);
  });

  it('reports the last signed height and round, also after a restart', async () => {
    const { s, path } = open();
    await s.signVote(VoteType.prevote, 12, 3, block(1)).durable;
    assert.equal(s.lastSignedHeight, 12);
    assert.equal(s.lastSignedRound, 3);
    const reopened = open(path).s;
    assert.equal(reopened.lastSignedHeight, 12);
    assert.equal(reopened.lastSignedRound, 3);
  });

  it('refuses a lower round at the same height, whatever the step', async () => {
    const { s, path } = open();
    await s.signVote(VoteType.prevote, 8, 2, block(1)).durable;
    for (const signer of [s, open(path).s]) {
      assert.throws(() => signer.signVote(VoteType.prevote, 8, 1, block(2)), DoubleSignError);
      assert.throws(() => signer.signVote(VoteType.precommit, 8, 1, block(1)), DoubleSignError);
      assert.throws(() => signer.signVote(VoteType.precommit, 8, 0, block(1)), DoubleSignError);
    }
  });

  it('refuses a lower height at a higher round, and signs a higher height at round 0', () => {
    const { s } = open();
    s.signVote(VoteType.precommit, 8, 4, block(1));
    assert.throws(() => s.signVote(VoteType.prevote, 7, 9, block(2)), DoubleSignError);
    assert.equal(s.signVote(VoteType.prevote, 9, 0, block(3)).signature.length, 64);
  });

  it('signs the precommit after its own prevote, and no prevote after a precommit', () => {
    const { s } = open();
    s.signVote(VoteType.prevote, 3, 0, block(1));
    assert.equal(s.signVote(VoteType.precommit, 3, 0, block(1)).signature.length, 64);
    assert.throws(() => s.signVote(VoteType.prevote, 3, 0, block(1)), DoubleSignError);
  });

  it('persists the position before it may be sent (durable resolves)', async () => {
    const { s, path } = open();
    await s.signVote(VoteType.precommit, 21, 1, block(4)).durable;
    const state = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.deepEqual([state['height'], state['round'], state['step']], [21, 1, VoteType.precommit]);
  });

  it('guards a position from the moment it is signed, before its write lands', async () => {
    const { s, path } = open();
    const first = s.signVote(VoteType.prevote, 30, 0, block(1));
    // Nothing awaited yet: the file may not hold height 30, the signer must.
    assert.throws(() => s.signVote(VoteType.prevote, 30, 0, block(2)), DoubleSignError);
    const second = s.signVote(VoteType.precommit, 30, 0, block(1));
    const third = s.signVote(VoteType.prevote, 31, 0, block(3));
    await Promise.all([first.durable, second.durable, third.durable]);
    // Queued writes land in signing order: the file ends at the last position.
    const state = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.deepEqual([state['height'], state['round'], state['step']], [31, 0, VoteType.prevote]);
  });

  it('refuses everything once a write of its state failed', async () => {
    const missing = join(dir, `no-such-dir-${files++}`, 'state.json');
    const { s } = open(missing);
    const signed = s.signVote(VoteType.prevote, 5, 0, block(1));
    await assert.rejects(signed.durable, /ENOENT/);
    assert.throws(() => s.signVote(VoteType.precommit, 5, 0, block(1)), SignerStateError);
    // Not even the message it signed may be handed out again: it is not on disk.
    assert.throws(() => s.signVote(VoteType.prevote, 5, 0, block(1)), SignerStateError);
  });

  const damaged: Array<[string, Record<string, unknown>]> = [
    ['height not an integer', { height: 1.5, round: 0, step: 1 }],
    ['height missing', { round: 0, step: 1 }],
    ['round not an integer', { height: 1, round: '0', step: 1 }],
    ['step unknown', { height: 1, round: 0, step: 3 }],
    ['negative step', { height: 1, round: 0, step: -1 }],
  ];
  for (const [what, fields] of damaged) {
    it(`refuses to start on a state file with ${what}`, () => {
      const path = join(dir, `damaged-${files++}.json`);
      const good = { digest: '00'.repeat(32), signature: '00'.repeat(64) };
      writeFileSync(path, JSON.stringify({ ...good, ...fields }));
      assert.throws(() => open(path), SignerStateError);
    });
  }

  // Step 0 is a signed proposal, 1 a prevote, 2 a precommit.
  it('starts on a well-formed state file of any step', () => {
    for (const step of [0, 1, 2]) {
      const path = join(dir, `good-${files++}.json`);
      const doc = {
        height: 4,
        round: 2,
        step,
        digest: '00'.repeat(32),
        signature: '00'.repeat(64),
      };
      writeFileSync(path, JSON.stringify(doc));
      assert.equal(open(path).s.lastSignedHeight, 4);
    }
  });
});
