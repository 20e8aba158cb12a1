/**
 * The contract language: ES2022 modules minus everything that is
 * nondeterministic, unmetered, or a way out of the sandbox. docs/contracts.md
 * explains each entry; the prelude (prelude.guest.js) removes the same things
 * at run time, so a name that slips past these static checks (computed access,
 * aliasing) still finds nothing.
 */

/** Globals a contract may not name. */
export const FORBIDDEN_GLOBALS: ReadonlySet<string> = new Set([
  'eval',
  'Function',
  'globalThis',
  'Proxy',
  'Reflect',
  'Date',
  'Intl',
  'WeakRef',
  'WeakMap',
  'WeakSet',
  'FinalizationRegistry',
  'SharedArrayBuffer',
  'ArrayBuffer',
  'DataView',
  'Atomics',
  'WebAssembly',
  'RegExp',
  'Promise',
  'Symbol',
  'Iterator',
  'arguments',
  'TypeError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'URIError',
  'EvalError',
  'AggregateError',
  'encodeURI',
  'encodeURIComponent',
  'decodeURI',
  'decodeURIComponent',
  'escape',
  'unescape',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]);

/**
 * Property names a contract may not read or write: prototype and constructor
 * chains (the way to `Function`), engine-specific text (`stack`), and
 * locale- or Unicode-version-dependent methods.
 */
export const FORBIDDEN_PROPERTIES: ReadonlySet<string> = new Set([
  'constructor',
  'prototype',
  '__proto__',
  'callee',
  'arguments',
  'stack',
  'toLocaleString',
  'toLocaleUpperCase',
  'toLocaleLowerCase',
  'toLocaleDateString',
  'localeCompare',
  'normalize',
  'toUpperCase',
  'toLowerCase',
  'match',
  'matchAll',
  'search',
  'getPrototypeOf',
  'setPrototypeOf',
  'defineProperty',
  'defineProperties',
  'getOwnPropertyDescriptor',
  'getOwnPropertyDescriptors',
  'getOwnPropertySymbols',
  'flat',
  'flatMap',
]);

/** Math functions whose results V8 does not promise to keep across versions. */
export const FORBIDDEN_MATH: ReadonlySet<string> = new Set([
  'random',
  'sin',
  'cos',
  'tan',
  'asin',
  'acos',
  'atan',
  'atan2',
  'sinh',
  'cosh',
  'tanh',
  'asinh',
  'acosh',
  'atanh',
  'exp',
  'expm1',
  'log',
  'log1p',
  'log2',
  'log10',
  'pow',
  'cbrt',
  'hypot',
]);

/** The only constructors `new` may be applied to, and only by these names. */
export const CONSTRUCTIBLE: ReadonlySet<string> = new Set(['Error', 'Map', 'Set', 'Array']);

/** Names reserved for the instrumentation and prelude. */
export function isReservedName(name: string): boolean {
  return name.startsWith('__');
}
