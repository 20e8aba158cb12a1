import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { COIN, formatCoins, MAX_MONEY } from '../primitives/amount.ts';
import { AmountInputError, parseCoinAmount } from './amount.ts';

describe('parseCoinAmount', () => {
  test('every amount from one base unit to MAX_MONEY survives format then parse', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX_MONEY }), (value) => {
        assert.equal(parseCoinAmount(formatCoins(value)), value);
      }),
    );
  });

  test('the forms people type', () => {
    assert.equal(parseCoinAmount('12.5'), 12n * COIN + COIN / 2n);
    assert.equal(parseCoinAmount('.5'), COIN / 2n);
    assert.equal(parseCoinAmount('1.'), COIN);
    assert.equal(parseCoinAmount(' 3 '), 3n * COIN);
    assert.equal(parseCoinAmount('0.00000001'), 1n);
    assert.equal(parseCoinAmount('21000000'), MAX_MONEY);
    assert.equal(parseCoinAmount('00000000000021000000.00000000'), MAX_MONEY);
  });

  test('says what is wrong, never "out of range: -1"', () => {
    const cases: Array<[string, RegExp]> = [
      ['abc', /is not an amount of coins/],
      ['1e3', /is not an amount of coins/],
      ['-1', /is not an amount of coins/],
      ['1,5', /is not an amount of coins/],
      ['', /is not an amount of coins/],
      ['0.000000001', /has 9 decimal places: coins have at most 8/],
      ['0', /is zero/],
      ['0.00000000', /is zero/],
      ['21000000.00000001', /more than the 21000000 coins that can ever exist/],
      ['999999999999', /more than the 21000000 coins/],
    ];
    for (const [text, message] of cases)
      assert.throws(
        () => parseCoinAmount(text),
        (error: unknown) =>
          error instanceof AmountInputError &&
          error.code === 'AMOUNT_INVALID' &&
          message.test(error.message),
        text,
      );
  });
});
