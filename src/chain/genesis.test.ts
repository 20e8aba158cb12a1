import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { getPublicKey } from '../crypto/signer.ts';
import { COIN } from '../primitives/amount.ts';
import {
  buildGenesisBlock,
  GenesisError,
  genesisFromTemplate,
  parseGenesis,
  serializeGenesis,
} from './genesis.ts';

const template = readFileSync(new URL('../../genesis/devnet.json', import.meta.url), 'utf8');
const validator = getPublicKey(new Uint8Array(32).fill(3));

describe('genesis', () => {
  it('builds a devnet genesis from the shipped template', async () => {
    const genesis = genesisFromTemplate(template, validator, Date.UTC(2026, 10, 1));
    assert.equal(genesis.chainId, 'utxod-devnet');
    assert.equal(genesis.allocations.length, 3);
    assert.equal(genesis.allocations[0]!.amount, 1_000_000n * COIN);
    const { block } = await buildGenesisBlock(genesis);
    assert.equal(block.height, 0);
    assert.equal(block.txs[0]!.outputs.length, 3);
  });

  it('round-trips through its file format to the same genesis block', async () => {
    const genesis = genesisFromTemplate(template, validator, Date.UTC(2026, 10, 1));
    const again = parseGenesis(serializeGenesis(genesis));
    assert.deepEqual(
      (await buildGenesisBlock(again)).block.hash,
      (await buildGenesisBlock(genesis)).block.hash,
    );
  });

  it('names the offending field', () => {
    const base = JSON.parse(
      serializeGenesis(genesisFromTemplate(template, validator, Date.UTC(2026, 10, 1))),
    );
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...base, validators: [] }, /"validators" must be a non-empty array/],
      [{ ...base, chainId: 'Bad Id' }, /"chainId"/],
      [{ ...base, time: 'yesterday' }, /"time"/],
      [{ ...base, extra: 1 }, /"extra" must be absent/],
      [{ ...base, params: { ...base.params, coinbaseMaturity: -1 } }, /"params.coinbaseMaturity"/],
      [
        { ...base, allocations: [{ address: 'utx1qqqq', amount: '1' }] },
        /"allocations\[0\].address"/,
      ],
      [
        { ...base, allocations: [{ address: base.allocations[0].address, amount: '1.5' }] },
        /"allocations\[0\].amount"/,
      ],
    ];
    for (const [doc, message] of cases) {
      assert.throws(
        () => parseGenesis(JSON.stringify(doc)),
        (e: unknown) => e instanceof GenesisError && message.test(e.message),
      );
    }
    assert.throws(() => parseGenesis('{not json'), GenesisError);
  });
});
