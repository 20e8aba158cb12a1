import { DecodeError, decodeExact, Writer } from '../encoding/index.ts';
import { isValidAmount } from './amount.ts';
import { type Lock, readLock, writeLock } from './lock.ts';
import { type Outpoint, outpointKey } from './outpoint.ts';

/** An unspent output as the UTXO set stores it. */
export interface Coin {
  readonly amount: bigint;
  readonly lock: Lock;
  /** Height of the block that created it. */
  readonly height: number;
  /** Created by a coinbase: spendable only after the coinbase maturity. */
  readonly coinbase: boolean;
}

/** amount u64 | height u32 | flags u8 | lock (type u8 + 32-byte hash). */
export const COIN_SIZE = 8 + 4 + 1 + 33;

const FLAG_COINBASE = 1;

export function encodeCoin(coin: Coin): Uint8Array {
  const w = new Writer(COIN_SIZE);
  w.u64(coin.amount)
    .u32(coin.height)
    .u8(coin.coinbase ? FLAG_COINBASE : 0);
  writeLock(w, coin.lock);
  return w.finish();
}

export function decodeCoin(bytes: Uint8Array): Coin {
  return decodeExact(bytes, 'coin', (r) => {
    const amount = r.u64('coin.amount');
    if (!isValidAmount(amount))
      throw new DecodeError('out-of-range', 'coin', { field: 'coin.amount' });
    const height = r.u32('coin.height');
    const flags = r.u8('coin.flags');
    if ((flags & ~FLAG_COINBASE) !== 0)
      throw new DecodeError('invalid-value', 'coin', { field: 'coin.flags' });
    return { amount, height, coinbase: flags === FLAG_COINBASE, lock: readLock(r) };
  });
}

/**
 * The bytes the UTXO-set commitment (MuHash) adds when a coin is created and
 * removes when it is spent: outpoint key followed by the coin record, so the
 * commitment binds amount, lock, height and coinbase flag of every coin.
 */
export function utxoElement(outpoint: Outpoint, coinBytes: Uint8Array): Uint8Array {
  const element = new Uint8Array(36 + COIN_SIZE);
  element.set(outpointKey(outpoint), 0);
  element.set(coinBytes, 36);
  return element;
}
