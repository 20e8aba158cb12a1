import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DecodeError, decodeExact, Reader, Writer } from './index.ts';

const VARINT_MAX = Number.MAX_SAFE_INTEGER;

describe('encoding: CompactSize varints', () => {
  it('round-trips every safe integer', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(0x1_0000), fc.nat(0xffff_ffff), fc.maxSafeNat()), (n) => {
        const bytes = new Writer().varint(n).finish();
        assert.equal(
          decodeExact(bytes, 'varint', (r) => r.varint(VARINT_MAX)),
          n,
        );
      }),
    );
  });

  it('uses the shortest form at each boundary', () => {
    const cases: Array<[number, number]> = [
      [0, 1],
      [0xfc, 1],
      [0xfd, 3],
      [0xffff, 3],
      [0x1_0000, 5],
      [0xffff_ffff, 5],
      [0x1_0000_0000, 9],
    ];
    for (const [value, size] of cases)
      assert.equal(new Writer().varint(value).finish().length, size);
  });

  it('rejects non-minimal encodings', () => {
    const nonMinimal = [
      Uint8Array.of(0xfd, 0xfc, 0x00),
      Uint8Array.of(0xfe, 0xff, 0xff, 0x00, 0x00),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0),
    ];
    for (const bytes of nonMinimal) {
      assert.throws(
        () => decodeExact(bytes, 'varint', (r) => r.varint(VARINT_MAX)),
        (e: unknown) => e instanceof DecodeError && e.reason === 'non-minimal-varint',
      );
    }
  });

  it('rejects values above the caller bound and above 2^53', () => {
    const big = new Writer().varint(1000).finish();
    assert.throws(() => decodeExact(big, 'v', (r) => r.varint(999)), /too-large/);
    const huge = Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 0x20, 0);
    assert.throws(() => decodeExact(huge, 'v', (r) => r.varint(VARINT_MAX)), /too-large/);
  });
});

describe('encoding: strict reader', () => {
  it('rejects truncation and trailing bytes', () => {
    assert.throws(() => decodeExact(Uint8Array.of(1, 2), 'u32', (r) => r.u32()), /truncated/);
    assert.throws(
      () => decodeExact(Uint8Array.of(1, 2, 3), 'u16', (r) => r.u16()),
      /trailing-bytes/,
    );
  });

  it('never throws anything but DecodeError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const r = new Reader(bytes, 'fuzz');
          r.varint(1 << 20);
          r.varBytes(32);
          r.u64();
          r.end();
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
    );
  });
});
