import { ContractError } from './errors.ts';
import { VmLimits } from './gas.ts';

/**
 * What crosses the sandbox boundary: arguments, return values, storage values,
 * events and the context. Only plain data, as canonical JSON text: bigints are
 * `{"$bigint":"<decimal>"}`, object keys keep insertion order, numbers must be
 * finite. The host never hands the guest an object, and never reads a guest
 * object except as this text.
 */
export type ContractValue =
  | null
  | boolean
  | number
  | string
  | bigint
  | readonly ContractValue[]
  | { readonly [key: string]: ContractValue };

const BIGINT_KEY = '$bigint';
/** Keys that would set a prototype or shadow the bigint form. */
const RESERVED_KEYS = new Set([BIGINT_KEY, '__proto__']);
const CANONICAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;

export function encodeValue(value: ContractValue, what = 'value'): string {
  const text = JSON.stringify(toJson(value, what, 0));
  if (text.length > VmLimits.maxValueBytes) {
    throw new ContractError(
      'CONTRACT_BAD_VALUE',
      `${what} is larger than ${VmLimits.maxValueBytes} bytes`,
    );
  }
  return text;
}

export function decodeValue(text: string, what = 'value'): ContractValue {
  if (text.length > VmLimits.maxValueBytes) {
    throw new ContractError(
      'CONTRACT_BAD_VALUE',
      `${what} is larger than ${VmLimits.maxValueBytes} bytes`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ContractError(
      'CONTRACT_BAD_VALUE',
      `${what} is not JSON: ${(error as Error).message}`,
    );
  }
  const value = fromJson(parsed, what, 0);
  if (JSON.stringify(toJson(value, what, 0)) !== text) {
    throw new ContractError('CONTRACT_BAD_VALUE', `${what} is not canonical`);
  }
  return value;
}

function toJson(value: ContractValue, what: string, depth: number): unknown {
  if (depth > VmLimits.maxValueDepth) {
    throw new ContractError(
      'CONTRACT_BAD_VALUE',
      `${what} is nested deeper than ${VmLimits.maxValueDepth}`,
    );
  }
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new ContractError('CONTRACT_BAD_VALUE', `${what} holds a non-finite number`);
      }
      return value;
    case 'bigint':
      return { [BIGINT_KEY]: value.toString() };
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value))
        return value.map((item: ContractValue) => toJson(item, what, depth + 1));
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (RESERVED_KEYS.has(key)) {
          throw new ContractError('CONTRACT_BAD_VALUE', `${what} uses the reserved key ${key}`);
        }
        out[key] = toJson(item as ContractValue, what, depth + 1);
      }
      return out;
    }
    default:
      throw new ContractError('CONTRACT_BAD_VALUE', `${what} holds a ${typeof value}`);
  }
}

function fromJson(json: unknown, what: string, depth: number): ContractValue {
  if (depth > VmLimits.maxValueDepth) {
    throw new ContractError(
      'CONTRACT_BAD_VALUE',
      `${what} is nested deeper than ${VmLimits.maxValueDepth}`,
    );
  }
  if (
    json === null ||
    typeof json === 'boolean' ||
    typeof json === 'string' ||
    typeof json === 'number'
  ) {
    return json;
  }
  if (Array.isArray(json)) return json.map((item) => fromJson(item, what, depth + 1));
  if (typeof json === 'object') {
    const entries = Object.entries(json as Record<string, unknown>);
    const first = entries[0];
    if (first !== undefined && first[0] === BIGINT_KEY) {
      if (
        entries.length !== 1 ||
        typeof first[1] !== 'string' ||
        !CANONICAL_INTEGER.test(first[1]) ||
        first[1] === '-0'
      ) {
        throw new ContractError('CONTRACT_BAD_VALUE', `${what} holds a malformed bigint`);
      }
      return BigInt(first[1]);
    }
    const out: Record<string, ContractValue> = {};
    for (const [key, item] of entries) {
      if (RESERVED_KEYS.has(key)) {
        throw new ContractError('CONTRACT_BAD_VALUE', `${what} uses the reserved key ${key}`);
      }
      out[key] = fromJson(item, what, depth + 1);
    }
    return out;
  }
  throw new ContractError('CONTRACT_BAD_VALUE', `${what} is not a contract value`);
}
