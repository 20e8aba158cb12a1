import { DecodeError, decodeExact, type Reader, Writer } from '../../encoding/index.ts';
import { isValidAmount, PUBKEY_SIZE } from '../../primitives/index.ts';

/**
 * The staking records kept in the state store, each with one canonical
 * encoding (docs/staking.md). Times are block times in ms, amounts base units.
 */

export interface ValidatorRecord {
  readonly operatorKey: Uint8Array;
  readonly consensusKey: Uint8Array;
  /** Block time of the last key rotation; 0 = never rotated. */
  readonly lastRotationMs: number;
  readonly createdHeight: number;
}

export interface JailRecord {
  /** 0 = not jailed; otherwise jailed, and unjail is allowed from this block time on. */
  readonly jailedUntilMs: number;
  readonly tombstoned: boolean;
}

export interface UnbondingEntry {
  readonly amount: bigint;
  readonly completesAtMs: number;
}

/** A validator's liveness over the last `window` blocks it was in the set for. */
export interface MissedWindow {
  /** Blocks observed since the window (re)started. */
  readonly observed: number;
  readonly missed: number;
  /** Bit i set: the block at position i (observed mod window) was missed. */
  readonly bitmap: Uint8Array;
}

export interface Totals {
  readonly bonded: bigint;
  readonly unbonding: bigint;
  /** Cumulative amount destroyed by slashing since genesis. */
  readonly slashed: bigint;
}

export interface SetMember {
  readonly consensusKey: Uint8Array;
  readonly power: bigint;
  readonly validatorId: Uint8Array;
}

const MAX_SET = 1024;

function amount(r: Reader, field: string): bigint {
  const v = r.u64(field);
  if (!isValidAmount(v)) throw new DecodeError('out-of-range', r.what, { field });
  return v;
}

function time(r: Reader, field: string): number {
  const v = r.u64(field);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('out-of-range', r.what, { field });
  return Number(v);
}

export function encodeValidator(v: ValidatorRecord): Uint8Array {
  return new Writer(78)
    .bytes(v.operatorKey)
    .bytes(v.consensusKey)
    .u64(BigInt(v.lastRotationMs))
    .u32(v.createdHeight)
    .finish();
}

export function decodeValidator(bytes: Uint8Array): ValidatorRecord {
  return decodeExact(bytes, 'validator record', (r) => ({
    operatorKey: r.bytes(PUBKEY_SIZE, 'operatorKey'),
    consensusKey: r.bytes(PUBKEY_SIZE, 'consensusKey'),
    lastRotationMs: time(r, 'lastRotationMs'),
    createdHeight: r.u32('createdHeight'),
  }));
}

export function encodeAmount(value: bigint): Uint8Array {
  return new Writer(8).u64(value).finish();
}

export function decodeAmount(bytes: Uint8Array): bigint {
  return decodeExact(bytes, 'amount', (r) => amount(r, 'amount'));
}

export function encodeJail(j: JailRecord): Uint8Array {
  return new Writer(9)
    .u64(BigInt(j.jailedUntilMs))
    .u8(j.tombstoned ? 1 : 0)
    .finish();
}

export function decodeJail(bytes: Uint8Array): JailRecord {
  return decodeExact(bytes, 'jail record', (r) => {
    const jailedUntilMs = time(r, 'jailedUntilMs');
    const flag = r.u8('tombstoned');
    if (flag > 1) throw new DecodeError('invalid-value', r.what, { field: 'tombstoned' });
    return { jailedUntilMs, tombstoned: flag === 1 };
  });
}

export function encodeUnbonding(e: UnbondingEntry): Uint8Array {
  return new Writer(16).u64(e.amount).u64(BigInt(e.completesAtMs)).finish();
}

export function decodeUnbonding(bytes: Uint8Array): UnbondingEntry {
  return decodeExact(bytes, 'unbonding entry', (r) => ({
    amount: amount(r, 'amount'),
    completesAtMs: time(r, 'completesAtMs'),
  }));
}

export function encodeWindow(w: MissedWindow): Uint8Array {
  return new Writer(8 + w.bitmap.length).u32(w.observed).u16(w.missed).bytes(w.bitmap).finish();
}

export function decodeWindow(bytes: Uint8Array, windowSize: number): MissedWindow {
  return decodeExact(bytes, 'missed-block window', (r) => ({
    observed: r.u32('observed'),
    missed: r.u16('missed'),
    bitmap: r.bytes(Math.ceil(windowSize / 8), 'bitmap'),
  }));
}

export function encodeTotals(t: Totals): Uint8Array {
  return new Writer(24).u64(t.bonded).u64(t.unbonding).u64(t.slashed).finish();
}

export function decodeTotals(bytes: Uint8Array): Totals {
  return decodeExact(bytes, 'staking totals', (r) => ({
    bonded: amount(r, 'bonded'),
    unbonding: amount(r, 'unbonding'),
    slashed: amount(r, 'slashed'),
  }));
}

/** A validator set as stored: members sorted by consensus key (the index order of commits). */
export function encodeSet(members: readonly SetMember[]): Uint8Array {
  const w = new Writer(2 + members.length * 73).varint(members.length);
  for (const m of members) w.bytes(m.consensusKey).u64(m.power).bytes(m.validatorId);
  return w.finish();
}

export function decodeSet(bytes: Uint8Array): SetMember[] {
  return decodeExact(bytes, 'validator set', (r) => {
    const n = r.varint(MAX_SET, 'members');
    const members: SetMember[] = [];
    for (let i = 0; i < n; i++) {
      members.push({
        consensusKey: r.bytes(PUBKEY_SIZE, 'consensusKey'),
        power: r.u64('power'),
        validatorId: r.bytes(32, 'validatorId'),
      });
    }
    return members;
  });
}
