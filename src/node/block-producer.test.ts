import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  openTestChain,
  type TestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { BlockImporter } from '../chain/index.ts';
import { SignatureChecker } from '../consensus/signatures.ts';
import { silentLogger } from '../logger/index.ts';
import { Mempool } from '../mempool/index.ts';
import { BlockProducer } from './block-producer.ts';

const opened: TestChain[] = [];
after(async () => {
  for (const t of opened) await t.destroy();
});

describe('BlockProducer', () => {
  it('stamps proposals with the injected clock, and commits them through the importer', async () => {
    const validator = testKey(1);
    const t = await openTestChain({
      genesis: testGenesis({ validator, funded: [testKey(2)] }),
      validator,
    });
    opened.push(t);
    const mempool = new Mempool(
      { maxBytes: 1 << 20, minRelayFeeRate: 0n },
      {
        params: t.chain.params,
        chainIdHash: t.chain.chainIdHash,
        chain: t.chain,
        signatures: new SignatureChecker({ verifier: t.verifier, cache: null }),
      },
    );
    const importer = new BlockImporter({
      chain: t.chain,
      mempool,
      metrics: null,
      logger: silentLogger(),
    });
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const producer = new BlockProducer(
      { emptyBlocks: true, validatorKey: validator.publicKey },
      { chain: t.chain, mempool, importer, clock },
    );
    const block = await producer.proposeBlock();
    assert.ok(block !== null);
    assert.equal(block.header.time, Date.UTC(2026, 5, 1));
    await producer.commitBlock(block, t.commitFor(block));
    assert.equal(t.chain.tipHeight, 1);
    clock.advance(1_500);
    assert.equal((await producer.proposeBlock())!.header.time, Date.UTC(2026, 5, 1) + 1_500);
    // Without work and without empty blocks, nothing is proposed.
    const idle = new BlockProducer(
      { emptyBlocks: false, validatorKey: validator.publicKey },
      { chain: t.chain, mempool, importer, clock },
    );
    assert.equal(await idle.proposeBlock(), null);
  });
});
