import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';

/**
 * The proof verifier ships to browsers through the SDK: nothing it imports,
 * directly or not, may use a Node-only module or global.
 */
describe('proof verifier portability', () => {
  it('imports no node: module and uses no Buffer or process, transitively', () => {
    const seen = new Set<string>();
    const queue = [resolve(import.meta.dirname, 'proof.ts')];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      // Feature-detected through globalThis (util/bytes.ts) is portable; a bare Buffer is not.
      const bare = code.replace(/\(globalThis as \{ Buffer\?: typeof Buffer \}\)\.Buffer/g, '');
      assert.ok(!/\bBuffer\./.test(bare) && !/new Buffer\b/.test(bare), `${file} uses Buffer`);
      assert.ok(!/\bprocess\./.test(code), `${file} uses process`);
      for (const match of code.matchAll(/from\s+'([^']+)'/g)) {
        const spec = match[1]!;
        assert.ok(!spec.startsWith('node:'), `${file} imports ${spec}`);
        if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
        else assert.ok(spec.startsWith('@noble/hashes/'), `${file} imports ${spec}`);
      }
    }
    assert.ok(seen.size >= 2);
  });
});
