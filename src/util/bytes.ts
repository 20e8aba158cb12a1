import { UtxodError } from './errors.ts';

export class HexError extends UtxodError<'INVALID_HEX'> {
  constructor(reason: string) {
    super('INVALID_HEX', `invalid hex: ${reason}`);
  }
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/**
 * Node's Buffer where there is one (native speed on the validation paths);
 * the plain versions below serve the wallet SDK in a browser.
 */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const HEX_DIGITS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex without prefix. */
export function toHex(bytes: Uint8Array): string {
  if (NodeBuffer === undefined) {
    let out = '';
    for (const byte of bytes) out += HEX_DIGITS[byte];
    return out;
  }
  return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict: lower-case, even length, no prefix; `expectedLength` in bytes if given. */
export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  if (!HEX_RE.test(hex)) throw new HexError('expected lower-case hex of even length');
  if (expectedLength !== undefined && hex.length !== expectedLength * 2) {
    throw new HexError(`expected ${expectedLength} bytes, got ${hex.length / 2}`);
  }
  if (NodeBuffer === undefined) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  return new Uint8Array(NodeBuffer.from(hex, 'hex'));
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
  if (NodeBuffer === undefined) return a.every((byte, i) => byte === b[i]);
  return NodeBuffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  if (NodeBuffer === undefined) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
  return NodeBuffer.from(a.buffer, a.byteOffset, a.byteLength).compare(b);
}

/** A string usable as a Map key for small binary ids (one char per byte). */
export function bytesKey(bytes: Uint8Array): string {
  if (NodeBuffer === undefined) return String.fromCharCode(...bytes);
  return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function u32BE(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}
