/**
 * Fuzz targets for what a contract transaction will carry: deploy source
 * (validated and rewritten by compileContract) and the canonical JSON values
 * that cross the sandbox boundary (decodeValue). Source is checked for
 * determinism instead of byte round-trip: a source that compiles must compile
 * to the same script again (every node must agree), which `sameValue` checks
 * by decoding the re-encoded source.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { compileContract } from '../../src/vm/compile.ts';
import { ContractError } from '../../src/vm/errors.ts';
import { type ContractValue, decodeValue, encodeValue } from '../../src/vm/values.ts';
import type { FuzzTarget } from './targets.ts';

const EXAMPLES = new URL('../../examples/contracts/', import.meta.url);
const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.js'))
  .map((f) => readFileSync(new URL(f, EXAMPLES), 'utf8'));

const utf8 = new TextDecoder('utf-8', { fatal: true });
const text = (bytes: Uint8Array, code: 'CONTRACT_SYNTAX' | 'CONTRACT_BAD_VALUE'): string => {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    // A transaction carries bytes; anything but UTF-8 is refused as the contract error it is.
    if (error instanceof TypeError) throw new ContractError(code, 'not UTF-8');
    throw error;
  }
};

const valueArb: fc.Arbitrary<ContractValue> = fc.letrec<{ v: ContractValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.string({ maxLength: 20 }),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== '$bigint' && k !== '__proto__'),
      tie('v'),
      { maxKeys: 4 },
    ),
  ),
})).v;

export const CONTRACT_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'contract-deploy-source',
    valid: fc.constantFrom(...examples).map((s) => new TextEncoder().encode(s)),
    decode: (bytes) => {
      const source = text(bytes, 'CONTRACT_SYNTAX');
      return { source, compiled: compileContract(source) };
    },
    encode: (v) => new TextEncoder().encode((v as { source: string }).source),
    sameValue: true,
  },
  {
    name: 'contract-value',
    valid: valueArb.map((v) => new TextEncoder().encode(encodeValue(v))),
    decode: (bytes) => decodeValue(text(bytes, 'CONTRACT_BAD_VALUE')),
    encode: (v) => new TextEncoder().encode(encodeValue(v as ContractValue)),
  },
];
