import { COIN, formatCoins, MAX_MONEY } from '../primitives/index.ts';
import { UtxodError } from '../util/index.ts';

export { COIN, formatCoins, MAX_MONEY };

/** An amount a person typed that is not one: the message says what is wrong with it. */
export class AmountInputError extends UtxodError<'AMOUNT_INVALID'> {}

const DECIMALS = 8;

/**
 * "12.5" coins -> base units, exactly (no floating point). The errors are for
 * people: they say why the text is not an amount, never "out of range: -1".
 */
export function parseCoinAmount(text: string): bigint {
  const trimmed = text.trim();
  const match = /^(\d+)(?:\.(\d*))?$/.exec(trimmed) ?? /^()\.(\d+)$/.exec(trimmed);
  if (match === null)
    throw new AmountInputError(
      'AMOUNT_INVALID',
      `"${text}" is not an amount of coins: write digits with an optional decimal point, like 12.5 or 0.001`,
      { text },
    );
  const whole = match[1] === '' ? '0' : match[1]!;
  const fraction = match[2] ?? '';
  if (fraction.length > DECIMALS)
    throw new AmountInputError(
      'AMOUNT_INVALID',
      `"${text}" has ${fraction.length} decimal places: coins have at most ${DECIMALS} (the smallest amount is 0.00000001)`,
      { text },
    );
  if (whole.replace(/^0+/, '').length > 8)
    throw new AmountInputError(
      'AMOUNT_INVALID',
      `"${text}" is more than the ${formatCoins(MAX_MONEY)} coins that can ever exist`,
      { text },
    );
  const value = BigInt(whole) * COIN + BigInt(fraction.padEnd(DECIMALS, '0'));
  if (value > MAX_MONEY)
    throw new AmountInputError(
      'AMOUNT_INVALID',
      `"${text}" is more than the ${formatCoins(MAX_MONEY)} coins that can ever exist`,
      { text },
    );
  if (value === 0n)
    throw new AmountInputError('AMOUNT_INVALID', `"${text}" is zero: send more than 0 coins`, {
      text,
    });
  return value;
}
