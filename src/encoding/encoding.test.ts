import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError, decodeExact, Reader, Writer } from './index.ts';

/**
 * Exact-value and boundary tests for the canonical encoding. The property
 * tests in encoding.prop.test.ts check round trips; these pin byte order,
 * offsets and every limit from both sides, so that an off-by-one in a bound
 * or a swapped endianness fails a test (mutation testing, docs/testing.md).
 */

function decodeError(reason: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof DecodeError && e.reason === reason;
}

describe('Reader: fixed-width integers', () => {
  it('reads little-endian values in sequence and tracks offset and remaining', () => {
    const bytes = Uint8Array.of(
      0xab,
      0x34,
      0x12,
      0x78,
      0x56,
      0x34,
      0x12,
      0x08,
      0x07,
      0x06,
      0x05,
      0x04,
      0x03,
      0x02,
      0x01,
    );
    const r = new Reader(bytes, 'ints');
    assert.equal(r.offset, 0);
    assert.equal(r.remaining, 15);
    assert.equal(r.u8(), 0xab);
    assert.equal(r.offset, 1);
    assert.equal(r.remaining, 14);
    assert.equal(r.u16(), 0x1234);
    assert.equal(r.offset, 3);
    assert.equal(r.u32(), 0x12345678);
    assert.equal(r.offset, 7);
    assert.equal(r.u64(), 0x0102030405060708n);
    assert.equal(r.offset, 15);
    assert.equal(r.remaining, 0);
    r.end();
  });

  it('reads a value that ends exactly at the last byte, and refuses one byte short', () => {
    const cases: Array<[number, (r: Reader) => unknown]> = [
      [1, (r) => r.u8()],
      [2, (r) => r.u16()],
      [4, (r) => r.u32()],
      [8, (r) => r.u64()],
    ];
    for (const [size, read] of cases) {
      // After one leading byte, so the bound is checked against the position too.
      const exact = new Uint8Array(1 + size).fill(0xff);
      const r = new Reader(exact, 'exact');
      r.u8();
      read(r);
      r.end();

      const short = new Uint8Array(size).fill(0xff);
      const s = new Reader(short, 'short');
      s.u8();
      assert.throws(() => read(s), decodeError('truncated'));
    }
  });

  it('reads from a view into a larger buffer at the view offset', () => {
    const backing = Uint8Array.of(9, 9, 0x01, 0x02, 9);
    const r = new Reader(backing.subarray(2, 4), 'view');
    assert.equal(r.u16(), 0x0201);
    r.end();
  });
});

describe('Reader: bytes', () => {
  it('copies exactly n bytes, ending at the last byte', () => {
    const src = Uint8Array.of(1, 2, 3, 4);
    const r = new Reader(src, 'bytes');
    assert.deepEqual(r.bytes(1), Uint8Array.of(1));
    const rest = r.bytes(3);
    assert.deepEqual(rest, Uint8Array.of(2, 3, 4));
    r.end();
    // A copy, not a view: the caller may keep it while the source is reused.
    src[1] = 0xee;
    assert.deepEqual(rest, Uint8Array.of(2, 3, 4));
    assert.throws(() => new Reader(src, 'bytes').bytes(5), decodeError('truncated'));
  });

  it('consumedSince returns a copy of what was read since a mark', () => {
    const src = Uint8Array.of(1, 2, 3, 4, 5);
    const r = new Reader(src, 'mark');
    r.u8();
    const mark = r.offset;
    r.u16();
    const consumed = r.consumedSince(mark);
    assert.deepEqual(consumed, Uint8Array.of(2, 3));
    src[1] = 0xee;
    assert.deepEqual(consumed, Uint8Array.of(2, 3));
    assert.equal(r.remaining, 2);
  });

  it('varBytes reads a length-prefixed field up to and including its bound', () => {
    const three = Uint8Array.of(3, 7, 8, 9);
    assert.deepEqual(
      decodeExact(three, 'vb', (r) => r.varBytes(3)),
      Uint8Array.of(7, 8, 9),
    );
    assert.throws(() => decodeExact(three, 'vb', (r) => r.varBytes(2)), decodeError('too-large'));
    assert.throws(
      () => decodeExact(Uint8Array.of(3, 7, 8), 'vb', (r) => r.varBytes(3)),
      decodeError('truncated'),
    );
  });
});

describe('Reader: CompactSize bounds', () => {
  const decode = (bytes: Uint8Array, max = Number.MAX_SAFE_INTEGER) =>
    decodeExact(bytes, 'varint', (r) => r.varint(max));

  it('accepts the smallest value of each width and the largest of the one below', () => {
    assert.equal(decode(Uint8Array.of(0xfc)), 0xfc);
    assert.equal(decode(Uint8Array.of(0xfd, 0xfd, 0x00)), 0xfd);
    assert.equal(decode(Uint8Array.of(0xfd, 0xff, 0xff)), 0xffff);
    assert.equal(decode(Uint8Array.of(0xfe, 0x00, 0x00, 0x01, 0x00)), 0x1_0000);
    assert.equal(decode(Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff)), 0xffff_ffff);
    assert.equal(decode(Uint8Array.of(0xff, 0, 0, 0, 0, 1, 0, 0, 0)), 0x1_0000_0000);
  });

  it('rejects the largest value of each width written one width too wide', () => {
    for (const bytes of [
      Uint8Array.of(0xfd, 0xfc, 0x00),
      Uint8Array.of(0xfe, 0xff, 0xff, 0x00, 0x00),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0),
    ]) {
      assert.throws(() => decode(bytes), decodeError('non-minimal-varint'));
    }
  });

  it('accepts exactly 2^53 - 1 and rejects 2^53', () => {
    const max = new Writer().u8(0xff).u64(BigInt(Number.MAX_SAFE_INTEGER)).finish();
    assert.equal(decode(max), Number.MAX_SAFE_INTEGER);
    const over = new Writer()
      .u8(0xff)
      .u64(BigInt(Number.MAX_SAFE_INTEGER) + 1n)
      .finish();
    assert.throws(() => decode(over), decodeError('too-large'));
    // Above 2^53 a Number loses precision, so the reader refuses it whatever
    // bound the caller passes, even an unbounded one.
    assert.throws(() => decode(over, Number.POSITIVE_INFINITY), decodeError('too-large'));
    const top = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    assert.throws(() => decode(top, Number.POSITIVE_INFINITY), decodeError('too-large'));
  });

  it('accepts a value equal to the caller bound in every width and rejects one above', () => {
    for (const value of [0, 5, 0xfc, 0xfd, 0x1234, 0x1_0000, 0xffff_ffff, 0x1_0000_0000]) {
      const bytes = new Writer().varint(value).finish();
      assert.equal(decode(bytes, value), value);
      if (value > 0) assert.throws(() => decode(bytes, value - 1), decodeError('too-large'));
    }
  });

  it('reports truncation inside a wide varint', () => {
    for (const bytes of [
      Uint8Array.of(),
      Uint8Array.of(0xfd, 0x00),
      Uint8Array.of(0xfe, 0, 0, 1),
      Uint8Array.of(0xff, 0, 0, 0, 0, 1, 0, 0),
    ]) {
      assert.throws(() => decode(bytes), decodeError('truncated'));
    }
  });
});

describe('Reader: end and decodeExact', () => {
  it('end accepts a fully read buffer and rejects each trailing byte count', () => {
    new Reader(new Uint8Array(0), 'empty').end();
    const r = new Reader(Uint8Array.of(1, 2, 3), 'trail');
    r.u8();
    assert.throws(
      () => r.end(),
      (e: unknown) =>
        e instanceof DecodeError &&
        e.reason === 'trailing-bytes' &&
        (e.details as { trailing: number }).trailing === 2,
    );
  });

  it('decodeExact returns the reader result and names the structure', () => {
    assert.equal(
      decodeExact(Uint8Array.of(7), 'one', (r) => r.u8()),
      7,
    );
    assert.throws(
      () => decodeExact(Uint8Array.of(7, 8), 'pair', (r) => r.u8()),
      (e: unknown) =>
        e instanceof DecodeError && e.message === 'cannot decode pair: trailing-bytes',
    );
  });
});

describe('Writer', () => {
  it('writes little-endian integers at consecutive offsets', () => {
    const w = new Writer().u8(0xab).u16(0x1234).u32(0x12345678).u64(0x0102030405060708n);
    assert.equal(w.length, 15);
    assert.deepEqual(
      w.finish(),
      Uint8Array.of(
        0xab,
        0x34,
        0x12,
        0x78,
        0x56,
        0x34,
        0x12,
        0x08,
        0x07,
        0x06,
        0x05,
        0x04,
        0x03,
        0x02,
        0x01,
      ),
    );
  });

  it('grows past its initial capacity, keeping what was written, by any amount', () => {
    const big = new Uint8Array(1000).map((_, i) => i & 0xff);
    for (const initial of [1, 2, 3, 8, 256]) {
      const w = new Writer(initial).u8(0x55).bytes(big).u16(0xbeef);
      const out = w.finish();
      assert.equal(out.length, 1003);
      assert.equal(out[0], 0x55);
      assert.deepEqual(out.subarray(1, 1001), big);
      assert.deepEqual(out.subarray(1001), Uint8Array.of(0xef, 0xbe));
    }
  });

  it('grows for each integer width when that write is the one that overflows', () => {
    for (const initial of [1, 2, 3, 7]) {
      assert.deepEqual(new Writer(initial).u8(9).u16(0x0201).finish(), Uint8Array.of(9, 1, 2));
      assert.deepEqual(
        new Writer(initial).u8(9).u32(0x04030201).finish(),
        Uint8Array.of(9, 1, 2, 3, 4),
      );
      assert.deepEqual(
        new Writer(initial).u8(9).u64(0x0807060504030201n).finish(),
        Uint8Array.of(9, 1, 2, 3, 4, 5, 6, 7, 8),
      );
    }
  });

  it('fills its capacity exactly without losing bytes, then grows', () => {
    const w = new Writer(4).u32(0x04030201);
    assert.deepEqual(w.finish(), Uint8Array.of(1, 2, 3, 4));
    w.u8(5);
    assert.deepEqual(w.finish(), Uint8Array.of(1, 2, 3, 4, 5));
  });

  it('finish returns a copy of exactly the written bytes', () => {
    const w = new Writer(16).u8(1).u8(2);
    const first = w.finish();
    assert.deepEqual(first, Uint8Array.of(1, 2));
    w.u8(3);
    assert.deepEqual(first, Uint8Array.of(1, 2));
    assert.deepEqual(w.finish(), Uint8Array.of(1, 2, 3));
  });

  it('writes each CompactSize width with its marker byte', () => {
    const cases: Array<[number, number[]]> = [
      [0, [0x00]],
      [0xfc, [0xfc]],
      [0xfd, [0xfd, 0xfd, 0x00]],
      [0xffff, [0xfd, 0xff, 0xff]],
      [0x1_0000, [0xfe, 0x00, 0x00, 0x01, 0x00]],
      [0xffff_ffff, [0xfe, 0xff, 0xff, 0xff, 0xff]],
      [0x1_0000_0000, [0xff, 0, 0, 0, 0, 1, 0, 0, 0]],
      [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00]],
    ];
    for (const [value, bytes] of cases) {
      assert.deepEqual(new Writer().varint(value).finish(), Uint8Array.from(bytes), String(value));
    }
  });

  it('refuses a varint that is negative, fractional or above 2^53 - 1', () => {
    for (const value of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Infinity]) {
      assert.throws(() => new Writer().varint(value), RangeError, String(value));
    }
  });

  it('varBytes writes the length then the bytes', () => {
    assert.deepEqual(new Writer().varBytes(Uint8Array.of(9, 8)).finish(), Uint8Array.of(2, 9, 8));
    assert.deepEqual(new Writer().varBytes(new Uint8Array(0)).finish(), Uint8Array.of(0));
    const long = new Uint8Array(0xfd).fill(1);
    const out = new Writer().varBytes(long).finish();
    assert.deepEqual(out.subarray(0, 3), Uint8Array.of(0xfd, 0xfd, 0x00));
    assert.equal(out.length, 3 + 0xfd);
  });

  it('a writer made with no capacity grows on its first write', () => {
    const bytes = new Writer(0).u8(1).u64(2n).finish();
    assert.equal(bytes.length, 9);
    assert.equal(bytes[0], 1);
  });
});
