import { bech32, bech32m } from '@scure/base';
import { UtxodError } from '../util/index.ts';

/**
 * Addresses are bech32m (BIP-350) strings: hrp "1" data, where the data is one
 * 5-bit word holding the version followed by the 32-byte program regrouped
 * into 5-bit words, as segwit addresses do. A per-network hrp keeps a testnet
 * address from ever being accepted on mainnet; bech32m rather than bech32
 * because bech32's checksum misses insertions before a final 'p'.
 */

/** The networks utxod knows; each has its own address prefix. */
export type NetworkName = 'mainnet' | 'testnet' | 'devnet';

export const NETWORK_HRP: Readonly<Record<NetworkName, string>> = {
  mainnet: 'utx',
  testnet: 'tutx',
  devnet: 'dutx',
};

/** Version 0: the program is the 32-byte hash of a public key. */
export const ADDRESS_VERSION_PUBKEY_HASH = 0;
/** Version 1: the program is a contract id (coins only the contract's spend rule releases). */
export const ADDRESS_VERSION_CONTRACT = 1;
/**
 * The highest version this node knows. Unknown versions are refused rather
 * than passed through: paying to an output type nobody can spend yet would
 * burn the coins. Versions are one 5-bit word, so this can grow up to 31.
 */
export const MAX_ADDRESS_VERSION = 1;
export const ADDRESS_PROGRAM_BYTES = 32;
/** BIP-173's limit on the whole string. */
export const MAX_ADDRESS_LENGTH = 90;

export type AddressReason =
  | 'too-long'
  | 'mixed-case'
  | 'invalid-character'
  | 'malformed'
  | 'bad-checksum'
  | 'bech32-not-bech32m'
  | 'wrong-hrp'
  | 'invalid-hrp'
  | 'bad-version'
  | 'bad-program-length'
  | 'bad-padding';

export class AddressError extends UtxodError<'INVALID_ADDRESS'> {
  readonly reason: AddressReason;

  constructor(reason: AddressReason, details: Record<string, unknown> = {}) {
    super('INVALID_ADDRESS', `invalid address: ${reason}`, { reason, ...details });
    this.reason = reason;
  }
}

export interface DecodedAddress {
  version: number;
  program: Uint8Array;
}

// BIP-173: hrp characters are printable US-ASCII (33..126); we also require
// lower case in what we emit, so that encoding is canonical.
const HRP_RE = /^[\x21-\x7e]{1,83}$/;
const DATA_RE = /^[qpzry9x8gf2tvdw0s3jn54khce6mua7l]*$/;
const CHECKSUM_CHARS = 6;
/** 32 bytes in 5-bit words, rounded up. */
const PROGRAM_WORDS = Math.ceil((ADDRESS_PROGRAM_BYTES * 8) / 5);

function checkVersionAndProgram(version: number, programLength: number): void {
  if (!Number.isInteger(version) || version < 0 || version > MAX_ADDRESS_VERSION) {
    throw new AddressError('bad-version', { version });
  }
  if (programLength !== ADDRESS_PROGRAM_BYTES) {
    throw new AddressError('bad-program-length', {
      expected: ADDRESS_PROGRAM_BYTES,
      actual: programLength,
    });
  }
}

export function encodeAddress(hrp: string, version: number, program: Uint8Array): string {
  if (!HRP_RE.test(hrp) || hrp !== hrp.toLowerCase())
    throw new AddressError('invalid-hrp', { hrp });
  checkVersionAndProgram(version, program.length);
  const words = [version, ...bech32m.toWords(program)];
  const length = hrp.length + 1 + words.length + CHECKSUM_CHARS;
  if (length > MAX_ADDRESS_LENGTH) throw new AddressError('too-long', { length, hrp });
  return bech32m.encode(hrp, words, MAX_ADDRESS_LENGTH);
}

/**
 * Strict decode for `expectedHrp`'s network. Checks run in an order that gives
 * the most useful reason: the string's shape, then the checksum (a typo), then
 * the network (a valid address for the wrong chain), then the payload.
 */
export function decodeAddress(address: string, expectedHrp: string): DecodedAddress {
  if (address.length > MAX_ADDRESS_LENGTH) {
    throw new AddressError('too-long', { length: address.length });
  }
  const lower = address.toLowerCase();
  if (address !== lower && address !== address.toUpperCase()) {
    throw new AddressError('mixed-case');
  }
  const separator = lower.lastIndexOf('1');
  if (separator < 1 || lower.length - separator - 1 < CHECKSUM_CHARS + 1) {
    throw new AddressError('malformed', { separator });
  }
  const hrp = lower.slice(0, separator);
  const data = lower.slice(separator + 1);
  if (!HRP_RE.test(hrp) || !DATA_RE.test(data)) throw new AddressError('invalid-character');

  const decoded = bech32m.decodeUnsafe(lower, MAX_ADDRESS_LENGTH);
  if (decoded === undefined) {
    const legacy = bech32.decodeUnsafe(lower, MAX_ADDRESS_LENGTH);
    throw new AddressError(legacy === undefined ? 'bad-checksum' : 'bech32-not-bech32m');
  }
  if (decoded.prefix !== expectedHrp) {
    throw new AddressError('wrong-hrp', { expected: expectedHrp, actual: decoded.prefix });
  }

  // At least one word is there: the data part is longer than the checksum.
  const [version, ...programWords] = decoded.words;
  // Only 52 words floor to 32 bytes, so past this check there are exactly 52.
  checkVersionAndProgram(version!, Math.floor((programWords.length * 5) / 8));
  // 52 words carry 260 bits: the 4 left over must be zero, or two strings
  // would decode to the same program.
  if ((programWords[PROGRAM_WORDS - 1]! & 0b1111) !== 0) throw new AddressError('bad-padding');
  return { version: version!, program: bech32m.fromWords(programWords) };
}
