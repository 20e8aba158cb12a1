import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../util/bytes.ts';
import { Tag, taggedHash } from './hash.ts';

/** SHA256(SHA256(tag) || SHA256(tag) || parts...), streamed: no shared buffer involved. */
function reference(tag: string, ...parts: Uint8Array[]): string {
  const t = createHash('sha256').update(tag).digest();
  const h = createHash('sha256').update(t).update(t);
  for (const part of parts) h.update(part);
  return h.digest('hex');
}

describe('taggedHash', () => {
  it('matches the definition for any parts, around the scratch size and past it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 1500 }), { maxLength: 4 }),
        fc.constantFrom(Tag.sighash, Tag.lockHash, Tag.txid),
        (parts, tag) => {
          assert.equal(toHex(taggedHash(tag, ...parts)), reference(tag, ...parts));
        },
      ),
      { numRuns: 200 },
    );
    for (const n of [0, 1, 4031, 4032, 4033, 10_000]) {
      const part = new Uint8Array(n).fill(n & 0xff);
      assert.equal(toHex(taggedHash(Tag.txid, part)), reference(Tag.txid, part), `${n} bytes`);
    }
  });

  it('returns digests that later calls do not overwrite', () => {
    const a = taggedHash(Tag.lockHash, new Uint8Array(33).fill(1));
    const before = toHex(a);
    taggedHash(Tag.lockHash, new Uint8Array(33).fill(2));
    taggedHash(Tag.sighash, new Uint8Array(5000).fill(3));
    assert.equal(toHex(a), before);
  });
});
