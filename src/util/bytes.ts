import { UtxodError } from './errors.ts';

export class HexError extends UtxodError<'INVALID_HEX'> {
  constructor(reason: string) {
    super('INVALID_HEX', `invalid hex: ${reason}`);
  }
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Lower-case hex without prefix. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict: lower-case, even length, no prefix; `expectedLength` in bytes if given. */
export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  if (!HEX_RE.test(hex)) throw new HexError('expected lower-case hex of even length');
  if (expectedLength !== undefined && hex.length !== expectedLength * 2) {
    throw new HexError(`expected ${expectedLength} bytes, got ${hex.length / 2}`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).compare(b);
}

/** A string usable as a Map key for small binary ids (one char per byte). */
export function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function u32BE(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}
