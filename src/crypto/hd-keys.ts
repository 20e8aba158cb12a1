import { HDKey } from '@scure/bip32';
import * as bip39 from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { UtxodError } from '../util/index.ts';

/**
 * Wallet keys: BIP39 mnemonics (English wordlist) to a seed, BIP32 derivation
 * from the seed. Thin wrappers over @scure/bip39 and @scure/bip32 whose value
 * is strict input checking with typed errors, so that a wallet can tell a
 * user which word is wrong instead of surfacing a library message.
 */

export type MnemonicReason = 'word-count' | 'unknown-word' | 'checksum' | 'unsupported-strength';

export class MnemonicError extends UtxodError<'INVALID_MNEMONIC'> {
  readonly reason: MnemonicReason;

  constructor(reason: MnemonicReason, details: Record<string, unknown> = {}) {
    super('INVALID_MNEMONIC', `invalid mnemonic: ${reason}`, { reason, ...details });
    this.reason = reason;
  }
}

export type DerivationPathReason = 'syntax' | 'index-out-of-range' | 'too-deep' | 'invalid-child';

export class DerivationPathError extends UtxodError<'INVALID_DERIVATION_PATH'> {
  readonly reason: DerivationPathReason;

  constructor(
    reason: DerivationPathReason,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(
      'INVALID_DERIVATION_PATH',
      `invalid derivation path: ${reason}`,
      { reason, ...details },
      options,
    );
    this.reason = reason;
  }
}

export class SeedError extends UtxodError<'INVALID_SEED'> {
  constructor(length: number) {
    super('INVALID_SEED', `invalid BIP32 seed: ${length} bytes, expected 16 to 64`, { length });
  }
}

export interface DerivedKey {
  privateKey: Uint8Array;
  /** 33-byte compressed secp256k1 public key. */
  publicKey: Uint8Array;
  /** The path in canonical form (hardened steps written with '). */
  path: string;
}

export type MnemonicStrength = 128 | 256;

/** Indexes at and above this are hardened (BIP32). */
export const HARDENED_OFFSET = 0x8000_0000;
const MAX_DEPTH = 255;
const WORD_COUNTS = [12, 15, 18, 21, 24];
const WORD_INDEX = new Map(wordlist.map((word, i) => [word, i]));

/** A fresh mnemonic from the CSPRNG: 12 words (128 bits) or 24 words (256 bits). */
export function generateMnemonic(strength: MnemonicStrength = 256): string {
  if (strength !== 128 && strength !== 256) {
    throw new MnemonicError('unsupported-strength', { strength });
  }
  return bip39.generateMnemonic(wordlist, strength);
}

/**
 * Throws a `MnemonicError` saying what is wrong. The sentence must be
 * canonical: NFKD-equal to lower-case English words separated by single
 * spaces, because BIP39 hashes the sentence itself into the seed and a
 * leniently accepted variant would silently yield a different wallet.
 */
export function assertValidMnemonic(mnemonic: string): void {
  const words = mnemonic.normalize('NFKD').split(' ');
  if (!WORD_COUNTS.includes(words.length)) {
    throw new MnemonicError('word-count', { count: words.length });
  }
  const unknown = words.findIndex((word) => !WORD_INDEX.has(word));
  if (unknown !== -1) throw new MnemonicError('unknown-word', { position: unknown });
  if (!bip39.validateMnemonic(mnemonic, wordlist)) throw new MnemonicError('checksum');
}

/** Any BIP39 length (12 to 24 words) is valid, so that phrases from other wallets import. */
export function validateMnemonic(mnemonic: string): boolean {
  try {
    assertValidMnemonic(mnemonic);
    return true;
  } catch (e) {
    if (e instanceof MnemonicError) return false;
    throw e;
  }
}

/** BIP39 seed (PBKDF2-HMAC-SHA512, 2048 rounds): 64 bytes. Rejects invalid mnemonics. */
export function mnemonicToSeed(mnemonic: string, passphrase = ''): Uint8Array {
  assertValidMnemonic(mnemonic);
  return bip39.mnemonicToSeedSync(mnemonic, passphrase);
}

const STEP_RE = /^(0|[1-9][0-9]*)(['h]?)$/;

/**
 * Parses "m/44'/0'/0'/0/5" (hardened as ' or h) into child indexes and the
 * canonical spelling. Stricter than @scure/bip32: no leading zeros and no
 * trailing or doubled separators, so a path has exactly one spelling.
 */
export function parsePath(path: string): { indexes: number[]; canonical: string } {
  const [root, ...steps] = path.split('/');
  if (root !== 'm') throw new DerivationPathError('syntax', { path });
  if (steps.length > MAX_DEPTH) throw new DerivationPathError('too-deep', { path });
  const indexes: number[] = [];
  for (const step of steps) {
    const match = STEP_RE.exec(step);
    if (match === null) throw new DerivationPathError('syntax', { path, step });
    const index = Number(match[1]);
    if (index >= HARDENED_OFFSET) {
      throw new DerivationPathError('index-out-of-range', { path, step });
    }
    indexes.push(match[2] === '' ? index : index + HARDENED_OFFSET);
  }
  return { indexes, canonical: formatPath(indexes) };
}

function formatPath(indexes: readonly number[]): string {
  let out = 'm';
  for (const i of indexes) out += i >= HARDENED_OFFSET ? `/${i - HARDENED_OFFSET}'` : `/${i}`;
  return out;
}

export function deriveKey(seed: Uint8Array, path: string): DerivedKey {
  const { indexes, canonical } = parsePath(path);
  if (seed.length < 16 || seed.length > 64) throw new SeedError(seed.length);
  let key: HDKey;
  try {
    key = HDKey.fromMasterSeed(seed);
    for (const index of indexes) key = key.deriveChild(index);
  } catch (e) {
    // With a well-formed path the only failure left is BIP32's "invalid key"
    // case (an intermediate key >= n or zero), probability ~2^-127 per step.
    throw new DerivationPathError('invalid-child', { path: canonical }, { cause: e });
  }
  // Present on every key derived from a seed; copied so callers own them.
  return {
    privateKey: key.privateKey!.slice(),
    publicKey: key.publicKey!.slice(),
    path: canonical,
  };
}

/** BIP44-style receive path: m/44'/coinType'/account'/0/index. */
export function accountPath(coinType: number, account: number, index: number): string {
  for (const [name, value] of [
    ['coinType', coinType],
    ['account', account],
    ['index', index],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value >= HARDENED_OFFSET) {
      throw new DerivationPathError('index-out-of-range', { [name]: value });
    }
  }
  return `m/44'/${coinType}'/${account}'/0/${index}`;
}
