import { chacha20 } from '@noble/ciphers/chacha.js';

/**
 * The 384-byte ChaCha20 keystream (RFC 8439, zero nonce, block counter 0)
 * that MuHash3072 turns into one group element, byte-reversed so that its hex
 * is the big-endian digits of the little-endian integer Core reads.
 *
 * ChaCha20 in JS was the largest cost of a MuHash element (6.7 us of ~15 us,
 * docs/performance.md). OpenSSL has chacha20 but `createCipheriv` costs ~80 us
 * a key here, and MuHash needs a new key per element. So the keystream is made
 * by a WebAssembly SIMD function generated below: each 128-bit vector holds
 * one state word of four blocks, so one pass of the 20 rounds yields four
 * blocks, and two passes give the six that MuHash needs (the last two lanes
 * of the second pass are discarded). Where WebAssembly SIMD is missing the
 * scalar @noble/ciphers code gives the same bytes.
 *
 * The module is emitted from this file rather than shipped as a binary so that
 * the code reviewed is the code run; `chacha20-simd.test.ts` checks it byte
 * for byte against @noble/ciphers.
 */

export const KEYSTREAM_BYTES = 384;

// Memory layout of the module (one 64 KiB page): the key, then the reversed keystream.
const KEY_AT = 0;
const OUT_AT = 64;

// --- A minimal WebAssembly encoder: just the opcodes the generator uses. ---

/** Bytes appended to a growable buffer (the module is ~25 KB; a few ms to build). */
class Bytes {
  private buf = new Uint8Array(1 << 15);
  length = 0;

  byte(b: number): this {
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(2 * this.buf.length);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = b;
    return this;
  }

  bytes(bs: ArrayLike<number>): this {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i]!);
    return this;
  }

  uleb(n: number): this {
    do {
      const low = n & 0x7f;
      n >>>= 7;
      this.byte(n === 0 ? low : low | 0x80);
    } while (n !== 0);
    return this;
  }

  sleb(n: number): this {
    for (;;) {
      const low = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (low & 0x40) === 0) || (n === -1 && (low & 0x40) !== 0))
        return this.byte(low);
      this.byte(low | 0x80);
    }
  }

  /** A length-prefixed copy of `inner` (sections, function bodies). */
  sized(inner: Bytes): this {
    return this.uleb(inner.length).bytes(inner.view());
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

const SIMD = 0xfd;
// Opcodes after the 0xfd prefix (all below 128 except the i32x4 ones, encoded as LEB128).
const V128_LOAD32_SPLAT = 9;
const V128_STORE = 11;
const V128_CONST = 12;
const I8X16_SHUFFLE = 13;
const V128_OR = 80;
const V128_XOR = 81;
const I32X4_SHL = 171;
const I32X4_SHR_U = 173;
const I32X4_ADD = 174;

class Code extends Bytes {
  get(local: number): this {
    return this.byte(0x20).uleb(local);
  }
  set(local: number): this {
    return this.byte(0x21).uleb(local);
  }
  tee(local: number): this {
    return this.byte(0x22).uleb(local);
  }
  i32(n: number): this {
    return this.byte(0x41).sleb(n);
  }
  simd(opcode: number): this {
    return this.byte(SIMD).uleb(opcode);
  }
  /** v128.load32_splat of the i32 address on the stack plus `offset` (align 2^2). */
  loadSplat(offset: number): this {
    return this.simd(V128_LOAD32_SPLAT).byte(2).uleb(offset);
  }
  /** v128.store at the i32 address below the vector (alignment hint 1: none assumed). */
  store(): this {
    return this.simd(V128_STORE).byte(0).uleb(0);
  }
  const128(lanes: readonly number[]): this {
    this.simd(V128_CONST);
    for (const lane of lanes) for (let b = 0; b < 4; b++) this.byte((lane >>> (8 * b)) & 0xff);
    return this;
  }
  shuffle(bytes: readonly number[]): this {
    return this.simd(I8X16_SHUFFLE).bytes(bytes);
  }
}

/** Byte indices of an i8x16.shuffle that picks 32-bit lanes (0-3 first operand, 4-7 second). */
function laneBytes(lanes: readonly number[]): number[] {
  return lanes.flatMap((lane) => [4 * lane, 4 * lane + 1, 4 * lane + 2, 4 * lane + 3]);
}

/** Rotating every 32-bit lane left by 8 or 16 bits moves whole bytes: one shuffle. */
function rotlBytes(bits: 8 | 16): number[] {
  const r = bits / 8;
  return [0, 4, 8, 12].flatMap((w) => [0, 1, 2, 3].map((b) => w + ((b - r + 4) % 4)));
}

const ROTL8 = rotlBytes(8);
const ROTL16 = rotlBytes(16);
// The first step of a 4x4 transpose, and the second fused with a byte reversal.
const INTERLEAVE_LOW = laneBytes([0, 4, 1, 5]);
const INTERLEAVE_HIGH = laneBytes([2, 6, 3, 7]);
const PICKS = [
  [0, 1, 4, 5],
  [2, 3, 6, 7],
].map((lanes) => laneBytes(lanes).reverse());

// "expand 32-byte k" as four little-endian words.
const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

/**
 * The body of `keystream()`: locals 0-15 are the working state (x), 16-31 the
 * input state (y) kept for the final addition, 32 a scratch vector.
 */
function keystreamBody(code: Code): void {
  const x = (i: number): number => i;
  const y = (i: number): number => 16 + i;
  const rotl = (i: number, bits: number): void => {
    // x[i] = rotl(x[i], bits), x[i] already holding the xor.
    if (bits === 16 || bits === 8) {
      code
        .get(x(i))
        .get(x(i))
        .shuffle(bits === 16 ? ROTL16 : ROTL8)
        .set(x(i));
    } else {
      code.get(x(i)).i32(bits).simd(I32X4_SHL);
      code
        .get(x(i))
        .i32(32 - bits)
        .simd(I32X4_SHR_U)
        .simd(V128_OR)
        .set(x(i));
    }
  };
  const quarter = (a: number, b: number, c: number, d: number): void => {
    for (const [p, q, r, bits] of [
      [a, b, d, 16],
      [c, d, b, 12],
      [a, b, d, 8],
      [c, d, b, 7],
    ] as const) {
      // p += q; r ^= p; r <<<= bits
      code.get(x(p)).get(x(q)).simd(I32X4_ADD).tee(x(p));
      code.get(x(r)).simd(V128_XOR).set(x(r));
      rotl(r, bits);
    }
  };

  for (const counter of [0, 4]) {
    // Input state: constants, key (the same in every lane), counters counter..counter+3, zero nonce.
    for (let i = 0; i < 4; i++) {
      const s = SIGMA[i]!;
      code.const128([s, s, s, s]).set(y(i));
    }
    for (let i = 0; i < 8; i++)
      code
        .i32(KEY_AT)
        .loadSplat(4 * i)
        .set(y(4 + i));
    code.const128([counter, counter + 1, counter + 2, counter + 3]).set(y(12));
    for (let i = 13; i < 16; i++) code.const128([0, 0, 0, 0]).set(y(i));
    for (let i = 0; i < 16; i++) code.get(y(i)).set(x(i));

    for (let round = 0; round < 10; round++) {
      quarter(0, 4, 8, 12);
      quarter(1, 5, 9, 13);
      quarter(2, 6, 10, 14);
      quarter(3, 7, 11, 15);
      quarter(0, 5, 10, 15);
      quarter(1, 6, 11, 12);
      quarter(2, 7, 8, 13);
      quarter(3, 4, 9, 14);
    }
    for (let i = 0; i < 16; i++) code.get(x(i)).get(y(i)).simd(I32X4_ADD).set(x(i));

    // Words 4g..4g+3 of the four blocks: a 4x4 transpose puts one block's
    // four words in a vector; the second shuffle also reverses its bytes.
    for (let g = 0; g < 4; g++) {
      const [a, b, c, d] = [x(4 * g), x(4 * g + 1), x(4 * g + 2), x(4 * g + 3)];
      // (a, b) <- (a0 b0 a1 b1, a2 b2 a3 b3); (c, d) likewise.
      code.get(a).get(b).shuffle(INTERLEAVE_LOW).set(32);
      code.get(a).get(b).shuffle(INTERLEAVE_HIGH).set(b).get(32).set(a);
      code.get(c).get(d).shuffle(INTERLEAVE_LOW).set(32);
      code.get(c).get(d).shuffle(INTERLEAVE_HIGH).set(d).get(32).set(c);
      const picks: [number, number, number[]][] = [
        [a, c, PICKS[0]!],
        [a, c, PICKS[1]!],
        [b, d, PICKS[0]!],
        [b, d, PICKS[1]!],
      ];
      picks.forEach(([lo, hi, reversedLanes], lane) => {
        const block = counter + lane;
        if (block >= 6) return; // beyond the 384 bytes MuHash reads
        const at = OUT_AT + KEYSTREAM_BYTES - 64 * block - 16 * g - 16;
        code.i32(at).get(lo).get(hi).shuffle(reversedLanes).store();
      });
    }
  }
}

function buildModule(): Uint8Array {
  const body = new Code();
  body.uleb(1).uleb(33).byte(0x7b); // one run of 33 v128 locals
  keystreamBody(body);
  body.byte(0x0b); // end
  const section = (out: Bytes, id: number, fill: (b: Bytes) => void): void => {
    const inner = new Bytes();
    fill(inner);
    out.byte(id).sized(inner);
  };
  const out = new Bytes().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  section(out, 1, (b) => b.uleb(1).bytes([0x60, 0, 0])); // type 0: [] -> []
  section(out, 3, (b) => b.uleb(1).uleb(0)); // one function of type 0
  section(out, 5, (b) => b.uleb(1).bytes([0x00, 1])); // one memory, min 1 page
  // Exports: name length, name, kind (2 memory, 0 function), index: memory "m", function "k".
  section(out, 7, (b) => b.uleb(2).bytes([1, 0x6d, 0x02, 0, 1, 0x6b, 0x00, 0]));
  section(out, 10, (b) => b.uleb(1).sized(body));
  return out.view().slice();
}

interface Instance {
  memory: Uint8Array;
  /** The reversed keystream's place in `memory`, as a Buffer for its hex. */
  out: Buffer;
  run: () => void;
}

/** The little of the WebAssembly JS API used here (the project's `lib` has no DOM types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { m: { buffer: ArrayBuffer }; k: () => void } };
}

function instantiate(): Instance | undefined {
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return undefined;
  const bytes = buildModule();
  if (!api.validate(bytes)) return undefined;
  const { m, k } = new api.Instance(new api.Module(bytes)).exports;
  // The memory never grows, so views of it stay valid.
  const memory = new Uint8Array(m.buffer);
  return { memory, out: Buffer.from(m.buffer, OUT_AT, KEYSTREAM_BYTES), run: k };
}

// Built on first use (a few ms), so that processes that never hash the UTXO set don't pay for it.
let wasm: Instance | undefined | null = null;

function simd(): Instance | undefined {
  if (wasm === null) wasm = instantiate();
  return wasm;
}

/** Whether the WebAssembly SIMD path is in use (the tests cover both paths). */
export function simdKeystream(): boolean {
  return simd() !== undefined;
}

const ZERO_NONCE = new Uint8Array(12);
const ZEROS = new Uint8Array(KEYSTREAM_BYTES);
// Plain Uint8Array at module level: the crypto face is bundled for browsers,
// where `Buffer` exists only if the page brings it (see reversedKeystreamHex).
const scalarOut = new Uint8Array(KEYSTREAM_BYTES);

/** The scalar path: @noble/ciphers, then the byte reversal. */
export function reversedKeystreamScalar(key: Uint8Array): Uint8Array {
  chacha20(key, ZERO_NONCE, ZEROS, scalarOut, 0);
  return scalarOut.reverse();
}

/**
 * The first 384 keystream bytes under a 32-byte key, last byte first. The
 * result is a view of shared scratch memory: read it before the next call.
 */
export function reversedKeystream(key: Uint8Array): Uint8Array {
  const w = simd();
  if (w === undefined) return reversedKeystreamScalar(key);
  if (key.length !== 32) throw new RangeError('ChaCha20 key must be 32 bytes');
  w.memory.set(key, KEY_AT);
  w.run();
  return w.out;
}

/** `reversedKeystream` as hex: what MuHash parses into a bigint (the fastest way in). */
export function reversedKeystreamHex(key: Uint8Array): string {
  const bytes = reversedKeystream(key);
  return bytes instanceof Buffer
    ? bytes.toString('hex')
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
