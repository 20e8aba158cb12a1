/**
 * A range that starts at block 1, whose carried commit is the empty genesis
 * commit: the range check has no genesis hash to compare it with (the
 * importer does that), so it must accept the block on its own commit and not
 * trip over the missing hash.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildSourceChain, type SourceChain } from '../../../test/support/sync-fixture.ts';
import { SignatureChecker } from '../../consensus/signatures.ts';
import { Block } from '../../primitives/block.ts';
import type { BlockWithCommit } from './network.ts';
import { checkRange } from './range-check.ts';

let source: SourceChain;

before(async () => {
  source = await buildSourceChain({ blocks: 3, txsPerBlock: 1 });
});
after(() => source.t.destroy());

describe('checkRange from block 1', () => {
  it('accepts the first blocks of the chain, the genesis commit carried by block 1', async () => {
    const { chain } = source.t;
    const items: BlockWithCommit[] = [];
    for (let h = 1; h <= 3; h++) {
      items.push({
        block: Block.decode((await chain.requireBlockAt(h)).encode()),
        commit: await chain.requireCommitAt(h),
      });
    }
    assert.equal(items[0]!.block.lastCommit.signatures.length, 0);
    const ctx = {
      params: chain.params,
      validators: chain.validators,
      chainIdHash: chain.chainIdHash,
    };
    const signatures = new SignatureChecker({ verifier: source.t.verifier, cache: null });
    const genesisHash = await chain.getHashAt(0);
    assert.deepEqual(await checkRange(items, 1, 3, ctx, genesisHash ?? null, signatures), {
      ok: true,
    });
  });
});
