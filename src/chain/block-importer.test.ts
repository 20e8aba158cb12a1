import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLogger } from '../../test/support/capture-logger.ts';
import {
  openTestChain,
  signSoloCommit,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import { VerificationError } from '../consensus/errors.ts';
import { silentLogger } from '../logger/index.ts';
import type { Block } from '../primitives/block.ts';
import { pubkeyLock } from '../primitives/lock.ts';
import { assembleBlock } from './block-assembler.ts';
import { type BlockImportedEvent, BlockImporter } from './block-importer.ts';

describe('BlockImporter', () => {
  it('reports a block on disk as imported even when an observer throws, and still tells the others', async () => {
    const validator = testKey(0);
    const t = await openTestChain({
      genesis: testGenesis({ validator, funded: [testKey(1)] }),
      validator,
    });
    try {
      const removed: Block[] = [];
      const importer = new BlockImporter({
        chain: t.chain,
        mempool: {
          async removeForBlock(block) {
            removed.push(block);
            return { conflicted: 0 };
          },
        },
        metrics: null,
        logger: silentLogger(),
      });
      const heard: number[] = [];
      importer.events.on('block', () => {
        throw new Error('observer bug');
      });
      importer.events.on('block', (event: BlockImportedEvent) => heard.push(event.result.height));
      for (let i = 1; i <= 2; i++) {
        const block = await assembleBlock(t.chain, {
          txs: [],
          fees: 0n,
          proposer: validator.publicKey,
          rewardLock: pubkeyLock(validator.publicKey),
          time: t.chain.tip.header.time + 1000,
        });
        const commit = signSoloCommit(t.chain.chainIdHash, block, validator);
        const result = await importer.importBlock(block, commit, 'producer', { now: null });
        assert.equal(result.height, i);
      }
      assert.equal(t.chain.tipHeight, 2);
      assert.deepEqual(heard, [1, 2]);
      assert.equal(removed.length, 2);
    } finally {
      await t.destroy();
    }
  });

  it('BLOCK_ALREADY_CONNECTED: the same block by a second path is refused quietly, without a penalty, and the chain does not move', async () => {
    const validator = testKey(0);
    const t = await openTestChain({
      genesis: testGenesis({ validator, funded: [testKey(1)] }),
      validator,
    });
    try {
      const log = captureLogger('debug');
      let removals = 0;
      const importer = new BlockImporter({
        chain: t.chain,
        mempool: {
          async removeForBlock() {
            removals++;
            return { conflicted: 0 };
          },
        },
        metrics: null,
        logger: log.logger,
      });
      const heard: number[] = [];
      importer.events.on('block', (event: BlockImportedEvent) => heard.push(event.result.height));
      const block = await assembleBlock(t.chain, {
        txs: [],
        fees: 0n,
        proposer: validator.publicKey,
        rewardLock: pubkeyLock(validator.publicKey),
        time: t.chain.tip.header.time + 1000,
      });
      const commit = signSoloCommit(t.chain.chainIdHash, block, validator);
      await importer.importBlock(block, commit, 'producer', { now: null });
      await assert.rejects(
        importer.importBlock(block, commit, 'gossip', { now: null }),
        (error) => {
          assert.ok(error instanceof VerificationError);
          assert.equal(error.code, 'BLOCK_ALREADY_CONNECTED');
          assert.equal(error.penalty, 0);
          return true;
        },
      );
      assert.equal(t.chain.tipHeight, 1);
      assert.deepEqual(heard, [1]);
      assert.equal(removals, 1);
      assert.deepEqual(
        log.lines.filter((l) => l.level >= 40).map((l) => l.msg),
        [],
        'a second arrival is not a warning',
      );
    } finally {
      await t.destroy();
    }
  });
});
