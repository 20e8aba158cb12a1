/**
 * Growable little-endian writer for the canonical encoding described in
 * docs/protocol.md. Variable-length integers are Bitcoin's CompactSize, always
 * written in their minimal form.
 */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  private reserve(extra: number): void {
    const needed = this.pos + extra;
    // The growth policy is invisible in what a writer produces (only in how
    // often it copies), so its mutants are equivalent (docs/testing.md).
    // Stryker disable next-line ConditionalExpression,EqualityOperator: growing when not needed copies, same bytes
    if (needed <= this.buf.length) return;
    // At least 16: a writer made with capacity 0 would otherwise double 0 forever.
    // Stryker disable next-line ArithmeticOperator: a smaller first guess is doubled by the loop below
    let capacity = Math.max(16, this.buf.length * 2);
    // Stryker disable next-line EqualityOperator: one doubling more is only more room
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): this {
    this.reserve(1);
    this.view.setUint8(this.pos, value);
    this.pos += 1;
    return this;
  }

  u16(value: number): this {
    this.reserve(2);
    this.view.setUint16(this.pos, value, true);
    this.pos += 2;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
    return this;
  }

  u64(value: bigint): this {
    this.reserve(8);
    this.view.setBigUint64(this.pos, value, true);
    this.pos += 8;
    return this;
  }

  /** CompactSize: < 0xfd in one byte, then 0xfd+u16, 0xfe+u32, 0xff+u64. */
  varint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`varint out of range: ${value}`);
    if (value < 0xfd) return this.u8(value);
    if (value <= 0xffff) return this.u8(0xfd).u16(value);
    if (value <= 0xffffffff) return this.u8(0xfe).u32(value);
    return this.u8(0xff).u64(BigInt(value));
  }

  bytes(value: Uint8Array): this {
    this.reserve(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** Length-prefixed bytes. */
  varBytes(value: Uint8Array): this {
    return this.varint(value.length).bytes(value);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
