import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ContractError } from './errors.ts';
import { type ContractValue, decodeValue, encodeValue } from './values.ts';

const key = fc.string({ maxLength: 8 }).filter((k) => k !== '$bigint' && k !== '__proto__');
const valueArb: fc.Arbitrary<ContractValue> = fc.letrec<{ value: ContractValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.string({ maxLength: 16 }),
    fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

describe('contract values', () => {
  test('decode(encode(v)) = v and encode(decode(t)) = t', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const text = encodeValue(value);
        assert.deepEqual(decodeValue(text), value);
        assert.equal(encodeValue(decodeValue(text)), text);
      }),
    );
  });

  const refused: Array<[string, string]> = [
    ['non-JSON', '{'],
    ['non-canonical number', '1.0'],
    ['non-canonical spacing', '[1, 2]'],
    ['malformed bigint', '{"$bigint":"01"}'],
    ['negative zero bigint', '{"$bigint":"-0"}'],
    ['bigint with extra keys', '{"$bigint":"1","x":1}'],
    ['prototype key', '{"__proto__":{"x":1}}'],
    ['too deep', `${'['.repeat(40)}${']'.repeat(40)}`],
    ['too large', JSON.stringify('x'.repeat(20_000))],
  ];
  for (const [name, text] of refused) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => decodeValue(text),
        (e: unknown) => e instanceof ContractError && e.code === 'CONTRACT_BAD_VALUE',
      );
    });
  }

  test('refuses to encode what is not plain data', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, { $bigint: 'x' }] as ContractValue[]) {
      assert.throws(() => encodeValue(bad), ContractError);
    }
    assert.throws(() => encodeValue((() => 1) as unknown as ContractValue), ContractError);
  });
});
