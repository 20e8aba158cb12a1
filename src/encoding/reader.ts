import { DecodeError } from './errors.ts';

/**
 * Strict reader over untrusted bytes. Every read is bounds-checked, varints
 * must be minimal, and `end()` rejects trailing bytes, so that a value has
 * exactly one accepted encoding. `what` names the structure in errors.
 */
export class Reader {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private pos = 0;
  readonly what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.buf = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.what = what;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, field: string): void {
    if (this.pos + n > this.buf.length) {
      throw new DecodeError('truncated', this.what, { field, offset: this.pos, needed: n });
    }
  }

  u8(field = 'u8'): number {
    this.need(1, field);
    const v = this.view.getUint8(this.pos);
    this.pos += 1;
    return v;
  }

  u16(field = 'u16'): number {
    this.need(2, field);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(field = 'u32'): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(field = 'u64'): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A minimal CompactSize no larger than `max`. */
  varint(max: number, field = 'varint'): number {
    const first = this.u8(field);
    let value: number;
    let min: number;
    if (first < 0xfd) return this.bounded(first, max, field);
    if (first === 0xfd) {
      value = this.u16(field);
      min = 0xfd;
    } else if (first === 0xfe) {
      value = this.u32(field);
      min = 0x10000;
    } else {
      const big = this.u64(field);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new DecodeError('too-large', this.what, { field });
      }
      value = Number(big);
      min = 0x100000000;
    }
    if (value < min) throw new DecodeError('non-minimal-varint', this.what, { field });
    return this.bounded(value, max, field);
  }

  private bounded(value: number, max: number, field: string): number {
    if (value > max) throw new DecodeError('too-large', this.what, { field, value, max });
    return value;
  }

  /** A copy of the next `n` bytes (never a view, so callers may keep it). */
  bytes(n: number, field = 'bytes'): Uint8Array {
    this.need(n, field);
    // Always a plain Uint8Array copy, even when the source is a Node Buffer.
    const out = new Uint8Array(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** A copy of bytes already read, from `start` to the current offset. */
  consumedSince(start: number): Uint8Array {
    return new Uint8Array(this.buf.subarray(start, this.pos));
  }

  varBytes(maxLength: number, field = 'bytes'): Uint8Array {
    const n = this.varint(maxLength, field);
    return this.bytes(n, field);
  }

  /** Fails unless every byte was consumed. */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw new DecodeError('trailing-bytes', this.what, { trailing: this.buf.length - this.pos });
    }
  }
}

/** Decode `bytes` entirely with `read`, rejecting trailing bytes. */
export function decodeExact<T>(bytes: Uint8Array, what: string, read: (r: Reader) => T): T {
  const reader = new Reader(bytes, what);
  const value = read(reader);
  reader.end();
  return value;
}
