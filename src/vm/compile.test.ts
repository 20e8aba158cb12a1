import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileContract } from './compile.ts';
import { ContractError } from './errors.ts';
import { VmLimits } from './gas.ts';

function refusal(source: string): ContractError {
  try {
    compileContract(source);
  } catch (error) {
    assert.ok(error instanceof ContractError, `not a ContractError: ${String(error)}`);
    return error;
  }
  assert.fail(`accepted: ${source}`);
}

describe('contract subset at deploy', () => {
  test('accepts a module of exported functions and lists its methods', () => {
    const c = compileContract(
      'const k = 1;\nexport function a(ctx) { return k; }\nexport function b(ctx, x) { return x; }',
    );
    assert.deepEqual(c.methods, ['a', 'b']);
    assert.match(c.codeHash, /^[0-9a-f]{64}$/);
    assert.ok(c.script.startsWith('__define(function () {'));
  });

  test('the same source compiles to the same script and hash', () => {
    const source =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: contract source, not a template
      'export function f(ctx, n) { let s = 0; for (const x of [1, 2]) s += x * n; return `${s}`; }';
    assert.deepEqual(compileContract(source), compileContract(source));
  });

  const forbidden: Array<[string, string]> = [
    ['eval', 'export function f() { return eval("1"); }'],
    ['Function', 'export function f() { return Function("return 1")(); }'],
    ['constructor chain', 'export function f() { return (() => 1).constructor; }'],
    ['constructor by literal key', 'export function f(o) { return o["constructor"]; }'],
    ['__proto__ key', 'export function f() { return { __proto__: null }; }'],
    ['prototype', 'export function f() { return Object.prototype; }'],
    ['globalThis', 'export function f() { return globalThis; }'],
    ['dynamic import', 'export function f() { return import("x"); }'],
    ['import', 'import x from "y";\nexport function f() { return 1; }'],
    ['regex literal', 'export function f(s) { return /a+/.test(s); }'],
    ['RegExp', 'export function f(s) { return new RegExp("a"); }'],
    ['Date', 'export function f() { return Date.now(); }'],
    ['Math.random', 'export function f() { return Math.random(); }'],
    ['Math.sin', 'export function f(x) { return Math.sin(x); }'],
    ['Intl', 'export function f() { return Intl; }'],
    ['WeakRef', 'export function f(o) { return new WeakRef(o); }'],
    ['FinalizationRegistry', 'export function f() { return FinalizationRegistry; }'],
    ['SharedArrayBuffer', 'export function f() { return SharedArrayBuffer; }'],
    ['Atomics', 'export function f() { return Atomics; }'],
    ['WebAssembly', 'export function f() { return WebAssembly; }'],
    ['Proxy', 'export function f(o) { return new Proxy(o, {}); }'],
    ['Reflect', 'export function f(o) { return Reflect.ownKeys(o); }'],
    ['getter', 'export function f() { return { get x() { return 1; } }; }'],
    ['class', 'export function f() { return class {}; }'],
    ['async', 'export async function f() { return 1; }'],
    ['generator', 'export function* f() { yield 1; }'],
    ['arguments', 'export function f() { return arguments.length; }'],
    ['arguments.callee', 'export function f() { return f.callee; }'],
    ['stack', 'export function f() { return new Error("x").stack; }'],
    ['reserved name', 'export function f() { return __charge; }'],
    ['new of a non-allowlisted constructor', 'export function f(x) { return new x(); }'],
    ['tagged template', 'export function f(t) { return t`x`; }'],
    ['rest element in destructuring', 'export function f(a) { const [...b] = a; return b; }'],
    ['locale method', 'export function f(s) { return s.toLocaleUpperCase(); }'],
    ['default export', 'export default function f() { return 1; }'],
    ['exported variable', 'export const x = 1;\nexport function f() { return x; }'],
    [
      'compound assignment on a call target',
      'export function f() { g().x += 1; }\nfunction g() { return {}; }',
    ],
    ['huge bigint literal', `export function f() { return ${'9'.repeat(1300)}n; }`],
  ];
  for (const [name, source] of forbidden) {
    test(`refuses ${name}`, () => {
      assert.equal(refusal(source).code, 'CONTRACT_FORBIDDEN');
    });
  }

  test('refuses a module with no exported function', () => {
    assert.equal(refusal('const x = 1;').code, 'CONTRACT_FORBIDDEN');
  });

  test('refuses invalid syntax with CONTRACT_SYNTAX', () => {
    assert.equal(refusal('export function f( {').code, 'CONTRACT_SYNTAX');
    // Modules are strict code, so `with` is a syntax error before the subset is even consulted.
    assert.equal(
      refusal('export function f(o) { with (o) { return 1; } }').code,
      'CONTRACT_SYNTAX',
    );
  });

  test('refuses source over the size limit before parsing it', () => {
    const source = `export function f() { return 1; }\n//${'x'.repeat(VmLimits.maxCodeBytes)}`;
    assert.equal(refusal(source).code, 'CONTRACT_TOO_LARGE');
  });

  test('refuses bracket nesting bombs without recursing into them', () => {
    const deep =
      `export function f() { return ${'('.repeat(50_000)}1${')'.repeat(50_000)}; }`.slice(
        0,
        60_000,
      );
    assert.equal(refusal(deep).code, 'CONTRACT_SYNTAX');
    const nested = `export function f() { return ${'['.repeat(VmLimits.maxNesting + 1)}${']'.repeat(VmLimits.maxNesting + 1)}; }`;
    assert.equal(refusal(nested).code, 'CONTRACT_SYNTAX');
  });

  test('refuses operator chains and else-if ladders that would recurse deeply', () => {
    const chain = `export function f(a) { return a${' + a'.repeat(5_000)}; }`;
    assert.equal(refusal(chain).code, 'CONTRACT_SYNTAX');
    const ladder = `export function f(a) { if (a === 0) return 0;${' else if (a === 1) return 1;'.repeat(2_000)} return 2; }`;
    assert.equal(refusal(ladder).code, 'CONTRACT_SYNTAX');
  });

  test('refuses a function with more locals than the frame bound', () => {
    const locals = Array.from(
      { length: VmLimits.maxLocals + 1 },
      (_, i) => `let v${i} = ${i};`,
    ).join('\n');
    assert.equal(
      refusal(`export function f() {\n${locals}\nreturn 1; }`).code,
      'CONTRACT_FORBIDDEN',
    );
  });

  test('instruments functions, loops, handlers, literals and growing operators', () => {
    const { script } = compileContract(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: contract source, not a template
      'export function f(ctx, o, k) { let s = ""; while (s.length < 3) { s += "a"; } try { o[k] = [1]; } catch (e) { return e; } finally { s = `${s}!`; } return s === "aaa!"; }',
    );
    for (const helper of [
      '__enter()',
      '__leave()',
      '__loop()',
      '__add(s, "a")',
      '__key(k)',
      '__catch(__e)',
      '__charge(5)',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: contract source, not a template
      '__str(`${s}!`)',
      '__seq(s, "aaa!")',
    ]) {
      assert.ok(script.includes(helper), `missing ${helper} in\n${script}`);
    }
  });
});
