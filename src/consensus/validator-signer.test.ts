import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generatePrivateKey, getPublicKey } from '../crypto/signer.ts';
import { nobleVerifier } from '../crypto/verifier.ts';
import { VoteType, voteDigest } from '../primitives/commit.ts';
import { DoubleSignError, SignerStateError, ValidatorSigner } from './validator-signer.ts';

const dir = mkdtempSync(join(tmpdir(), 'utxod-signer-'));
const privateKey = generatePrivateKey();
const key = { privateKey, publicKey: getPublicKey(privateKey) };
const chainIdHash = new Uint8Array(32).fill(9);
const blockA = new Uint8Array(32).fill(1);
const blockB = new Uint8Array(32).fill(2);

function signer(statePath = join(dir, 'state.json')): ValidatorSigner {
  return new ValidatorSigner({ statePath, chainIdHash }, { key });
}

describe('validator signer', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('signs votes that verify, and re-signing the same vote returns the same signature', () => {
    const s = signer();
    const sig = s.signVote(VoteType.precommit, 5, 0, blockA);
    assert.ok(
      nobleVerifier.verify(
        voteDigest(chainIdHash, VoteType.precommit, 5, 0, blockA),
        sig,
        key.publicKey,
      ),
    );
    assert.deepEqual(s.signVote(VoteType.precommit, 5, 0, blockA), sig);
  });

  it('refuses a second block at the same height/round/step, also after a restart', () => {
    assert.throws(() => signer().signVote(VoteType.precommit, 5, 0, blockB), DoubleSignError);
    assert.throws(() => signer().signVote(VoteType.prevote, 5, 0, blockB), /below the last signed/);
    assert.throws(
      () => signer().signVote(VoteType.precommit, 4, 9, blockB),
      /below the last signed/,
    );
    const next = signer().signVote(VoteType.precommit, 5, 1, blockB);
    assert.equal(next.length, 64, 'a later round is fine');
    assert.equal(signer().lastSignedRound, 1);
  });

  it('refuses to sign at all when its state file is damaged', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"height": "x"}');
    assert.throws(() => signer(path), SignerStateError);
  });
});
