/**
 * `node bench/gen-chain.ts <datadir> [blocks] [txs per block]`: initializes a
 * devnet data directory and connects a chain of signed transactions into it
 * (the sync bench's generator). Used to compare `utxod verify-chain --full`
 * output before and after a change to validation code.
 */
import { initNodeDir } from '../test/support/node-process.ts';
import { seed } from './suites/sync.ts';

const [dir, blocks = '200', perBlock = '20'] = process.argv.slice(2);
if (dir === undefined)
  throw new Error('usage: node bench/gen-chain.ts <datadir> [blocks] [txs per block]');
initNodeDir(dir);
const txs = await seed(dir, Number(blocks), Number(perBlock));
console.log(`${dir}: ${blocks} blocks, ${txs} transactions`);
