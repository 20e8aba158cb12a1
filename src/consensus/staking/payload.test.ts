/**
 * Strict decoding of staking payloads, one fault at a time: each malformed
 * payload differs from a valid one in exactly the field under test (the
 * amount stays valid when the key is the fault, and the other way round).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Point } from '@noble/secp256k1';
import { stakingKey } from '../../../test/support/staking-fixture.ts';
import { MAX_MONEY } from '../../primitives/amount.ts';
import { VerificationError } from '../errors.ts';
import {
  decodeStakingPayload,
  encodeStakingPayload,
  isValidPublicKey,
  type StakingPayload,
} from './payload.ts';

const key = stakingKey('payload test').publicKey;
/** 33 bytes with a valid prefix whose x is not on the curve. */
const offCurve = Uint8Array.of(2, ...new Uint8Array(32).fill(0xff));
const uncompressedPrefix = Uint8Array.of(4, ...key.subarray(1));

function malformed(payload: { type: number; data: Uint8Array }): void {
  assert.throws(
    () => decodeStakingPayload(payload),
    (error: unknown) => {
      assert.ok(error instanceof VerificationError, String(error));
      assert.equal(error.code, 'STAKE_PAYLOAD_MALFORMED');
      assert.equal(error.penalty, 100);
      return true;
    },
  );
}

/** `p` encoded, then its consensus key (the last 33 bytes) replaced by `replacement`. */
function withKey(p: StakingPayload, replacement: Uint8Array) {
  const encoded = encodeStakingPayload(p);
  const data = new Uint8Array(encoded.data);
  data.set(replacement, data.length - replacement.length);
  return { type: encoded.type, data };
}

describe('staking payload decoding', () => {
  it('refuses a consensus key off the curve or with a wrong prefix, in a bond and in a rotation', () => {
    const bond: StakingPayload = { kind: 'bond', amount: 5n, consensusKey: key };
    const rotate: StakingPayload = { kind: 'rotateKey', consensusKey: key };
    for (const p of [bond, rotate]) {
      assert.deepEqual(decodeStakingPayload(encodeStakingPayload(p)), p);
      malformed(withKey(p, offCurve));
      malformed(withKey(p, uncompressedPrefix));
      malformed(withKey(p, new Uint8Array(33)));
    }
  });

  it('accepts amounts from 1 to MAX_MONEY, nothing outside, in a bond and an unbond', () => {
    for (const amount of [1n, MAX_MONEY]) {
      const bond: StakingPayload = { kind: 'bond', amount, consensusKey: key };
      assert.deepEqual(decodeStakingPayload(encodeStakingPayload(bond)), bond);
      const unbond: StakingPayload = { kind: 'unbond', amount };
      assert.deepEqual(decodeStakingPayload(encodeStakingPayload(unbond)), unbond);
    }
    for (const amount of [0n, MAX_MONEY + 1n, 2n ** 64n - 1n]) {
      malformed(encodeStakingPayload({ kind: 'bond', amount, consensusKey: key }));
      malformed(encodeStakingPayload({ kind: 'unbond', amount }));
    }
  });

  it('reads a withdrawal height over all 32 bits, and refuses a truncated one', () => {
    const p: StakingPayload = { kind: 'withdraw', creationHeight: 0xffff_ffff };
    const encoded = encodeStakingPayload(p);
    assert.deepEqual(decodeStakingPayload(encoded), p);
    malformed({ type: encoded.type, data: encoded.data.subarray(0, 3) });
  });

  it('isValidPublicKey: compressed points only', () => {
    assert.equal(isValidPublicKey(key), true);
    assert.equal(isValidPublicKey(Uint8Array.of(key[0] === 2 ? 3 : 2, ...key.subarray(1))), true);
    for (const bad of [offCurve, uncompressedPrefix, key.subarray(0, 32), new Uint8Array(33)]) {
      assert.equal(isValidPublicKey(bad), false);
    }
    assert.equal(isValidPublicKey(Uint8Array.of(...key, 0)), false);
    // The same point uncompressed (65 bytes) is a valid point, but not a consensus key.
    const uncompressed = Point.fromBytes(key).toBytes(false);
    assert.equal(uncompressed.length, 65);
    assert.equal(isValidPublicKey(uncompressed), false);
  });
});
