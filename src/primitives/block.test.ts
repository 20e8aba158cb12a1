import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { blockArb } from '../../test/support/arbitraries.ts';
import { DecodeError } from '../encoding/index.ts';
import { Block } from './block.ts';
import { evidenceRoot } from './evidence.ts';
import { MAX_BLOCK_BYTES } from './limits.ts';
import { merkleRoot } from './merkle.ts';

const sample = (): Block => fc.sample(blockArb, { numRuns: 1, seed: 42 })[0]!;

describe('Block', () => {
  it('names its header: hash, height, and size is its encoding', () => {
    const block = sample();
    assert.equal(block.hash, block.header.hash);
    assert.equal(block.height, block.header.height);
    assert.equal(block.size, block.encode().length);
  });

  it('computes the Merkle root of its wtxids, in order', () => {
    const block = sample();
    assert.deepEqual(block.computeTxRoot(), merkleRoot(block.txs.map((tx) => tx.wtxid)));
    if (block.txs.length > 1) {
      const reversed = new Block(block.header, block.lastCommit, [...block.txs].reverse());
      assert.notDeepEqual(reversed.computeTxRoot(), block.computeTxRoot());
    }
  });

  it('encodes once and keeps the bytes it was decoded from', () => {
    const block = sample();
    assert.equal(block.encode(), block.encode(), 'the same bytes object each time');
    const bytes = block.encode().slice();
    const decoded = Block.decode(bytes);
    assert.equal(decoded.encode(), bytes, 'no re-encoding of what was decoded');
  });

  it('commits its evidence by evidenceRoot, in order; none gives the all-zero root', () => {
    const block = fc.sample(
      blockArb.filter((b) => b.evidence.length === 2),
      { numRuns: 1, seed: 7 },
    )[0]!;
    assert.deepEqual(block.computeEvidenceRoot(), evidenceRoot(block.evidence));
    const swapped = new Block(
      block.header,
      block.lastCommit,
      block.txs,
      [...block.evidence].reverse(),
    );
    assert.notDeepEqual(swapped.computeEvidenceRoot(), block.computeEvidenceRoot());
    assert.deepEqual(
      new Block(block.header, block.lastCommit, []).computeEvidenceRoot(),
      new Uint8Array(32),
    );
    assert.deepEqual(Block.decode(block.encode().slice()).evidence, block.evidence);
  });

  it('refuses a header of version 2 (before evidenceRoot) and an evidence count beyond the bytes', () => {
    const block = sample();
    const v2 = block.encode().slice();
    new DataView(v2.buffer).setUint32(0, 2, true);
    assert.throws(
      () => Block.decode(v2),
      (e) => e instanceof DecodeError && /header.version/.test(JSON.stringify(e.details)),
    );
    // The last byte is the evidence count of an evidence-free block: claim one piece.
    const noEvidence = new Block(block.header, block.lastCommit, block.txs).encode().slice();
    noEvidence[noEvidence.length - 1] = 1;
    assert.throws(
      () => Block.decode(noEvidence),
      (e) =>
        e instanceof DecodeError && /truncated/.test(`${e.message} ${JSON.stringify(e.details)}`),
    );
  });

  it('refuses more than MAX_BLOCK_BYTES before decoding; at the limit it decodes', () => {
    const over = new Uint8Array(MAX_BLOCK_BYTES + 1);
    assert.throws(
      () => Block.decode(over),
      (e) => e instanceof DecodeError && /too-large/.test(`${e.code} ${e.message}`),
    );
    // Exactly at the limit the size check passes: these zero bytes fail as a block instead.
    assert.throws(
      () => Block.decode(new Uint8Array(MAX_BLOCK_BYTES)),
      (e) => e instanceof DecodeError && !/too-large/.test(`${e.code} ${e.message}`),
    );
  });
});
