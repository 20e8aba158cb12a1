import { UtxodError } from '../util/index.ts';

/** Base units per coin. Amounts are always bigint base units. */
export const COIN = 100_000_000n;
/** No amount, and no sum of amounts, may exceed this. */
export const MAX_MONEY = 21_000_000n * COIN;

export class AmountError extends UtxodError<'AMOUNT_OUT_OF_RANGE'> {
  constructor(what: string, value: bigint) {
    super('AMOUNT_OUT_OF_RANGE', `${what} out of range: ${value}`, {
      what,
      value: value.toString(),
    });
  }
}

export function isValidAmount(value: bigint): boolean {
  return value >= 0n && value <= MAX_MONEY;
}

/** Sum that fails as soon as a partial sum leaves [0, MAX_MONEY]. */
export function sumAmounts(values: Iterable<bigint>, what: string): bigint {
  let total = 0n;
  for (const value of values) {
    if (!isValidAmount(value)) throw new AmountError(what, value);
    total += value;
    if (total > MAX_MONEY) throw new AmountError(`sum of ${what}`, total);
  }
  return total;
}

/** "12.345" coins -> base units, exact; rejects more than 8 decimals. */
export function parseCoins(text: string): bigint {
  const match = /^(\d{1,8})(?:\.(\d{1,8}))?$/.exec(text);
  if (match === null) throw new AmountError(`amount "${text}"`, -1n);
  const whole = BigInt(match[1]!);
  const fraction = BigInt((match[2] ?? '').padEnd(8, '0'));
  const value = whole * COIN + fraction;
  if (!isValidAmount(value)) throw new AmountError('amount', value);
  return value;
}

export function formatCoins(value: bigint): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const fraction = (abs % COIN).toString().padStart(8, '0').replace(/0+$/, '');
  return `${sign}${abs / COIN}${fraction === '' ? '' : `.${fraction}`}`;
}
