import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildSourceChain, type SourceChain } from '../../../test/support/sync-fixture.ts';
import { SignatureChecker } from '../../consensus/signatures.ts';
import { Block } from '../../primitives/block.ts';
import { CommitCertificate } from '../../primitives/commit.ts';
import { Header } from '../../primitives/header.ts';
import { merkleRoot } from '../../primitives/merkle.ts';
import { Transaction } from '../../primitives/transaction.ts';
import type { BlockWithCommit } from './network.ts';
import { checkRange, type RangeCheckContext } from './range-check.ts';

let source: SourceChain;
let ctx: RangeCheckContext;
let signatures: SignatureChecker;

before(async () => {
  source = await buildSourceChain({ blocks: 12, txsPerBlock: 1 });
  const { chain } = source.t;
  ctx = { params: chain.params, validators: chain.validators, chainIdHash: chain.chainIdHash };
  signatures = new SignatureChecker({ verifier: source.t.verifier, cache: null });
});

after(async () => {
  await source.t.destroy();
});

async function served(start: number, count: number): Promise<BlockWithCommit[]> {
  const items: BlockWithCommit[] = [];
  for (let h = start; h < start + count; h++) {
    items.push({
      block: Block.decode((await source.t.chain.requireBlockAt(h)).encode()),
      commit: await source.t.chain.requireCommitAt(h),
    });
  }
  return items;
}

async function check(
  items: BlockWithCommit[],
  start: number,
  count: number,
  prev: Uint8Array | null = null,
) {
  return checkRange(items, start, count, ctx, prev, signatures);
}

describe('checkRange', () => {
  it('accepts an honest range, a prefix of it, and checks the link to a known parent', async () => {
    const items = await served(3, 6);
    assert.deepEqual(await check(items, 3, 6), { ok: true });
    assert.deepEqual(await check(items.slice(0, 2), 3, 6), { ok: true });
    const parent = (await source.t.chain.getHashAt(2))!;
    assert.deepEqual(await check(items, 3, 6, parent), { ok: true });
    const fault = await check(items, 3, 6, new Uint8Array(32));
    assert.equal(fault.ok, false);
    if (!fault.ok) assert.equal(fault.code, 'BLOCK_BAD_PREV');
  });

  it('rejects too many blocks, wrong heights and gaps as violations', async () => {
    const items = await served(3, 6);
    const cases: Array<[BlockWithCommit[], number, string, number]> = [
      [items, 5, 'SYNC_TOO_MANY_BLOCKS', 5],
      [items.slice(1), 6, 'SYNC_WRONG_HEIGHT', 0],
      [[items[0]!, items[2]!], 6, 'SYNC_WRONG_HEIGHT', 1],
    ];
    for (const [list, count, code, index] of cases) {
      const result = await check(list, 3, count);
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.code, code);
        assert.equal(result.index, index);
        assert.equal(result.penalty, 100);
      }
    }
  });

  it('rejects a certificate for another block and a forged certificate signature', async () => {
    const items = await served(3, 4);
    const swapped = [...items];
    swapped[2] = { block: items[2]!.block, commit: items[1]!.commit };
    const a = await check(swapped, 3, 4);
    assert.ok(!a.ok && a.code === 'BLOCK_BAD_COMMIT' && a.index === 2);

    const commit = items[3]!.commit;
    const sig = commit.signatures[0]!.signature.slice();
    sig[10] = sig[10]! ^ 1;
    const forged = [...items];
    forged[3] = {
      block: items[3]!.block,
      commit: new CommitCertificate({
        ...commit,
        signatures: [{ validatorIndex: 0, signature: sig }],
      }),
    };
    const b = await check(forged, 3, 4);
    assert.ok(!b.ok && b.code === 'BLOCK_BAD_COMMIT' && b.index === 3, JSON.stringify(b));
  });

  it('rejects a body that does not match the header (Merkle root) with its verification penalty', async () => {
    const items = await served(3, 2);
    const block = items[1]!.block;
    const tampered = new Block(block.header, block.lastCommit, [block.txs[0]!]);
    const result = await check([items[0]!, { block: tampered, commit: items[1]!.commit }], 3, 2);
    assert.ok(
      !result.ok &&
        result.code === 'BLOCK_BAD_TX_ROOT' &&
        result.index === 1 &&
        result.penalty === 100,
    );
  });

  it('verifies transaction signatures whose spent outputs are known, and names the block', async () => {
    const items = await served(5, 3);
    const noCoins = async (outpoints: readonly unknown[]) => outpoints.map(() => undefined);
    assert.deepEqual(await checkRange(items, 5, 3, ctx, null, signatures, noCoins), { ok: true });
    // Block 7 re-made (valid root, validly certified) with one witness signature broken;
    // its transaction spends an output created in block 6, in the same range.
    const block = items[2]!.block;
    const tx = block.txs[1]!;
    const witnesses = tx.witnesses.map((w, i) => {
      if (i !== 0) return w;
      const signature = w.signature.slice();
      signature[5] = signature[5]! ^ 1;
      return { ...w, signature };
    });
    const broken = new Transaction({ ...tx, witnesses });
    const txs = [block.txs[0]!, broken];
    const header = new Header({ ...block.header, txRoot: merkleRoot(txs.map((t) => t.wtxid)) });
    const bad = new Block(header, block.lastCommit, txs);
    const list = [items[0]!, items[1]!, { block: bad, commit: source.t.commitFor(bad) }];
    assert.deepEqual(await check(list, 5, 3), { ok: true }, 'without coins the shape is fine');
    const result = await checkRange(list, 5, 3, ctx, null, signatures, noCoins);
    assert.ok(
      !result.ok && result.code === 'TX_BAD_SIGNATURE' && result.index === 2,
      JSON.stringify(result),
    );
    assert.equal(result.ok ? 0 : result.penalty, 100);
  });
});
