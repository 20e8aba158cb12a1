/**
 * Project Wycheproof's secp256k1/SHA-256 "Bitcoin" vectors (low S required)
 * against every verifier backend. The vectors carry DER signatures; we use
 * compact r||s, so each signature goes through a strict DER parser first:
 * strictly valid DER whose integers fit 32 bytes becomes a compact signature
 * and is checked; anything else tests an encoding we never accept and is only
 * counted (and must not be a vector that expects success).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fromHex } from '../util/bytes.ts';
import { sha256 } from './hash.ts';
import { availableVerifiers } from './verifier.ts';

interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}

interface WycheproofGroup {
  type: string;
  publicKey: { curve: string; uncompressed: string };
  sha: string;
  tests: WycheproofTest[];
}

interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
}

const VECTORS = new URL(
  '../../test/vectors/wycheproof_ecdsa_secp256k1_sha256_bitcoin_test.json',
  import.meta.url,
);

type DerResult =
  | { kind: 'compact'; sig: Uint8Array }
  | { kind: 'not-der'; why: string }
  | { kind: 'out-of-range'; why: string };

/**
 * Strict DER for SEQUENCE { INTEGER r, INTEGER s }: short-form lengths only
 * (every valid signature is < 128 bytes), minimal non-empty integers, no
 * trailing bytes. A well-formed integer that is negative or longer than 32
 * bytes is `out-of-range`: it cannot be a compact r or s.
 */
function parseStrictDer(der: Uint8Array): DerResult {
  if (der.length < 2 || der[0] !== 0x30) return { kind: 'not-der', why: 'not a SEQUENCE' };
  const seqLen = der[1]!;
  if (seqLen >= 0x80) return { kind: 'not-der', why: 'long-form length' };
  if (seqLen !== der.length - 2) return { kind: 'not-der', why: 'SEQUENCE length mismatch' };
  let pos = 2;
  const ints: Uint8Array[] = [];
  for (let i = 0; i < 2; i++) {
    if (pos + 2 > der.length || der[pos] !== 0x02)
      return { kind: 'not-der', why: 'not an INTEGER' };
    const len = der[pos + 1]!;
    if (len >= 0x80) return { kind: 'not-der', why: 'long-form length' };
    if (len === 0) return { kind: 'not-der', why: 'empty INTEGER' };
    pos += 2;
    if (pos + len > der.length) return { kind: 'not-der', why: 'truncated INTEGER' };
    const body = der.subarray(pos, pos + len);
    if (len > 1 && body[0] === 0x00 && (body[1]! & 0x80) === 0) {
      return { kind: 'not-der', why: 'non-minimal INTEGER' };
    }
    if (len > 1 && body[0] === 0xff && (body[1]! & 0x80) !== 0) {
      return { kind: 'not-der', why: 'non-minimal INTEGER' };
    }
    ints.push(body);
    pos += len;
  }
  if (pos !== der.length) return { kind: 'not-der', why: 'trailing bytes' };
  const compact = new Uint8Array(64);
  for (const [i, body] of ints.entries()) {
    if ((body[0]! & 0x80) !== 0) return { kind: 'out-of-range', why: 'negative INTEGER' };
    const magnitude = body[0] === 0x00 ? body.subarray(1) : body;
    if (magnitude.length > 32) return { kind: 'out-of-range', why: 'INTEGER over 32 bytes' };
    compact.set(magnitude, i * 32 + 32 - magnitude.length);
  }
  return { kind: 'compact', sig: compact };
}

function compressPublicKey(uncompressed: Uint8Array): Uint8Array {
  assert.equal(uncompressed.length, 65);
  assert.equal(uncompressed[0], 0x04);
  const out = new Uint8Array(33);
  out[0] = (uncompressed[64]! & 1) === 0 ? 0x02 : 0x03;
  out.set(uncompressed.subarray(1, 33), 1);
  return out;
}

describe('Wycheproof ECDSA secp256k1 SHA-256 (Bitcoin, low S)', () => {
  const file = JSON.parse(readFileSync(VECTORS, 'utf8')) as WycheproofFile;
  const verifiers = availableVerifiers();

  it('the vector file is the expected one', () => {
    assert.equal(file.algorithm, 'ECDSA');
    assert.ok(file.testGroups.length > 0);
    for (const group of file.testGroups) {
      assert.equal(group.type, 'EcdsaBitcoinVerify');
      assert.equal(group.publicKey.curve, 'secp256k1');
      assert.equal(group.sha, 'SHA-256');
    }
  });

  it('every strictly-DER vector gives the expected result in every backend', (t) => {
    let ran = 0;
    let ranValid = 0;
    let notDer = 0;
    let outOfRange = 0;
    let total = 0;
    const failures: string[] = [];

    for (const group of file.testGroups) {
      const pub = compressPublicKey(fromHex(group.publicKey.uncompressed));
      for (const test of group.tests) {
        total++;
        const where = `tcId ${test.tcId} (${test.comment})`;
        const parsed = parseStrictDer(fromHex(test.sig));
        if (parsed.kind !== 'compact') {
          if (parsed.kind === 'not-der') notDer++;
          else outOfRange++;
          // A signature we cannot even represent must never be one the vector expects to pass.
          if (test.result === 'valid')
            failures.push(`${where}: valid vector skipped (${parsed.why})`);
          continue;
        }
        ran++;
        const digest = sha256(fromHex(test.msg));
        const results = verifiers.map((v) => v.verify(digest, parsed.sig, pub));
        const names = verifiers.map((v, i) => `${v.name}=${results[i]}`).join(' ');
        if (results.some((r) => r !== results[0])) {
          failures.push(`${where}: backends disagree: ${names}`);
          continue;
        }
        if (test.result === 'acceptable') continue;
        const expected = test.result === 'valid';
        if (expected) ranValid++;
        if (results[0] !== expected) {
          failures.push(`${where}: expected ${test.result}, got ${names}`);
        }
      }
    }

    t.diagnostic(
      `wycheproof: ${total} vectors, ${ran} run (${ranValid} valid) on ` +
        `[${verifiers.map((v) => v.name).join(', ')}], skipped as DER-format cases: ` +
        `${notDer} not strict DER + ${outOfRange} integer not a 32-byte unsigned`,
    );
    assert.deepEqual(failures, []);
    assert.equal(total, file.numberOfTests);
    assert.equal(ran + notDer + outOfRange, total);
    // Guards against a parser bug that would quietly skip everything.
    assert.ok(ran >= 200, `only ${ran} vectors ran`);
    assert.ok(ranValid >= 100, `only ${ranValid} valid vectors ran`);
  });

  it('the strict DER parser rejects the usual BER leniencies', () => {
    const kind = (hex: string) => parseStrictDer(fromHex(hex)).kind;
    assert.equal(kind('3006020101020101'), 'compact');
    assert.equal(kind('308106020101020101'), 'not-der'); // long-form SEQUENCE length
    assert.equal(kind('3007020101020101'), 'not-der'); // SEQUENCE length past the end
    assert.equal(kind('300602010102010100'), 'not-der'); // trailing byte
    assert.equal(kind('300702020001020101'), 'not-der'); // r padded with a needless 00
    assert.equal(kind('3005020002020101'), 'not-der'); // empty r
    assert.equal(kind('3006020181020101'), 'out-of-range'); // r negative
    // r = 2^256: 33 bytes even after dropping a sign byte.
    assert.equal(kind(`30260221010000${'00'.repeat(30)}020101`), 'out-of-range');
  });
});
