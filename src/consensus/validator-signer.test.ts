import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generatePrivateKey, getPublicKey } from '../crypto/signer.ts';
import { nobleVerifier } from '../crypto/verifier.ts';
import { NO_POL_ROUND, proposalDigest, VoteType, voteDigest } from '../primitives/commit.ts';
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

  it('signs votes that verify, and re-signing the same vote returns the same signature', async () => {
    const s = signer();
    const signed = s.signVote(VoteType.precommit, 5, 0, blockA);
    await signed.durable;
    const sig = signed.signature;
    assert.ok(
      nobleVerifier.verify(
        voteDigest(chainIdHash, VoteType.precommit, 5, 0, blockA),
        sig,
        key.publicKey,
      ),
    );
    assert.deepEqual(s.signVote(VoteType.precommit, 5, 0, blockA).signature, sig);
  });

  it('refuses a second block at the same height/round/step, also after a restart', async () => {
    assert.throws(() => signer().signVote(VoteType.precommit, 5, 0, blockB), DoubleSignError);
    assert.throws(() => signer().signVote(VoteType.prevote, 5, 0, blockB), /below the last signed/);
    assert.throws(
      () => signer().signVote(VoteType.precommit, 4, 9, blockB),
      /below the last signed/,
    );
    const next = signer().signVote(VoteType.precommit, 5, 1, blockB);
    assert.equal(next.signature.length, 64, 'a later round is fine');
    await next.durable;
    assert.equal(signer().lastSignedRound, 1);
  });

  it('refuses to sign at all when its state file is damaged', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"height": "x"}');
    assert.throws(() => signer(path), SignerStateError);
  });
});

describe('validator signer: proposals', () => {
  const pdir = mkdtempSync(join(tmpdir(), 'utxod-signer-p-'));
  after(() => rmSync(pdir, { recursive: true, force: true }));

  it('orders proposal < prevote < precommit within a round and re-signs identical bytes', async () => {
    const s = signer(join(pdir, 'proposals.json'));
    const p = s.signProposal(7, 0, NO_POL_ROUND, blockA).signature;
    assert.ok(
      nobleVerifier.verify(
        proposalDigest(chainIdHash, 7, 0, NO_POL_ROUND, blockA),
        p,
        key.publicKey,
      ),
    );
    assert.deepEqual(
      s.signProposal(7, 0, NO_POL_ROUND, blockA).signature,
      p,
      'same bytes, same signature',
    );
    assert.throws(() => s.signProposal(7, 0, NO_POL_ROUND, blockB), DoubleSignError);
    await s.signVote(VoteType.prevote, 7, 0, blockA).durable;
    assert.throws(
      () => signer(join(pdir, 'proposals.json')).signProposal(7, 0, NO_POL_ROUND, blockA),
      /below the last signed/,
      'a proposal after the prevote of its round is refused, also after a restart',
    );
    await s.signVote(VoteType.precommit, 7, 0, blockA).durable;
    const reproposal = signer(join(pdir, 'proposals.json')).signProposal(7, 1, 0, blockA);
    assert.equal(
      reproposal.signature.length,
      64,
      'the next round may propose (with a proof-of-lock round)',
    );
    await reproposal.durable;
  });
});
