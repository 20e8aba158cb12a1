/**
 * Fails the build when a verification code (src/consensus/errors.ts) has no
 * test that asserts it: every code must appear, quoted, in some test file
 * besides this one. A code that no source file raises cannot be triggered;
 * such codes are listed in NOT_RAISED, and that list is checked against the
 * sources too, so raising one of them later demands its test.
 */
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VerificationCodes } from '../../src/consensus/errors.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const self = fileURLToPath(import.meta.url);

/** Codes in the table that no source file raises today (reported, not tested). */
const NOT_RAISED: readonly string[] = ['BLOCK_MALFORMED'];

function read(pattern: string, keep: (path: string) => boolean): Map<string, string> {
  const files = new Map<string, string>();
  for (const rel of globSync(pattern, { cwd: root })) {
    const path = root + rel;
    if (keep(path)) files.set(rel, readFileSync(path, 'utf8'));
  }
  return files;
}

const isTest = (p: string) => p.endsWith('.test.ts');
const tests = new Map([
  ...read('src/**/*.test.ts', (p) => p !== self),
  ...read('test/**/*.test.ts', (p) => p !== self),
]);
const sources = read('src/**/*.ts', (p) => !isTest(p) && !p.endsWith('consensus/errors.ts'));
const quoted = (code: string) => new RegExp(`['"\`]${code}['"\`]`);
const mentions = (files: Map<string, string>, code: string) =>
  [...files.keys()].filter((f) => quoted(code).test(files.get(f)!));

describe('every verification code has a test that asserts it', () => {
  const codes = Object.keys(VerificationCodes);

  it('reads the code table and the test sources', () => {
    assert.ok(codes.length >= 30, `only ${codes.length} codes read`);
    assert.ok(tests.size >= 20, `only ${tests.size} test files read`);
  });

  for (const code of codes) {
    it(code, () => {
      if (NOT_RAISED.includes(code)) {
        assert.deepEqual(
          mentions(sources, code),
          [],
          `${code} is raised now: remove it from NOT_RAISED and add a test that triggers it`,
        );
        return;
      }
      assert.notDeepEqual(
        mentions(sources, code),
        [],
        `${code} is in the table but no source raises it: add it to NOT_RAISED`,
      );
      assert.notDeepEqual(
        mentions(tests, code),
        [],
        `no test asserts ${code}: add one under test/rules that triggers it`,
      );
    });
  }
});
