/**
 * A fixed sequence of contract blocks (deploys, calls that succeed and fail,
 * contract-locked spends) over a real state store; one line per block with
 * its state root, gas used and events. Run in a separate process by
 * test/contracts/determinism.test.ts, so two processes' roots can be compared.
 */
import { readFileSync } from 'node:fs';
import { contractId } from '../../src/primitives/index.ts';
import { toHex } from '../../src/util/index.ts';
import { ContractRuntime } from '../../src/vm/index.ts';
import {
  argsBytes,
  ContractHarness,
  codeBytes,
  contractCoin,
  contractTx,
  resetTxSerial,
  testKey,
} from './contract-chain.ts';

const COUNTER = `
export function init(ctx, start) { ctx.storage.set('n', start); }
export function add(ctx, by) {
  const n = ctx.storage.get('n') + by;
  ctx.storage.set('n', n);
  ctx.storage.set('k' + (n % 7), { n, caller: ctx.caller, at: ctx.height });
  ctx.emit('added', { n });
  if (n % 5 === 0) throw new Error('multiple of five');
  return n;
}
export function spin(ctx) { for (;;) {} }
`;

export async function blockRuns(runtime: ContractRuntime): Promise<string[]> {
  resetTxSerial();
  const h = await ContractHarness.open(runtime);
  try {
    const owners = ['o1', 'o2', 'o3'].map((l) => testKey(l).publicKey);
    const multisig = readFileSync(
      new URL('../../examples/contracts/multisig.js', import.meta.url),
      'utf8',
    );
    const deploy = (source: string, args: string) =>
      contractTx({
        payload: {
          kind: 'deploy',
          gasLimit: 300_000,
          gasPrice: 1n,
          code: codeBytes(source),
          args: argsBytes(args),
        },
      });
    const call = (id: Uint8Array, method: string, args: string, gasLimit = 60_000) =>
      contractTx({
        signer: testKey(`caller ${method} ${args}`).publicKey,
        payload: {
          kind: 'call',
          contractId: id,
          gasLimit,
          gasPrice: 1n,
          method,
          args: argsBytes(args),
        },
      });
    const d1 = deploy(COUNTER, '[1]');
    const d2 = deploy(multisig, JSON.stringify([owners.map(toHex), 2]));
    const counter = contractId(d1.tx.txid);
    const ms = contractId(d2.tx.txid);
    const blocks = [
      [d1, d2],
      [1, 2, 3, 4, 5, 6].map((by) => call(counter, 'add', `[${by}]`)),
      [
        call(counter, 'spin', '[]', 3_000),
        contractTx({
          signer: null,
          spent: [contractCoin(ms), contractCoin(ms, 7n), contractCoin(ms, 9n)],
          signers: [null, owners[0]!, owners[2]!],
        }),
        call(counter, 'add', '[100]'),
      ],
    ];
    const lines: string[] = [];
    for (const txs of blocks) {
      const { root, block } = await h.block(txs);
      lines.push(
        `${toHex(root)} ${block.gasUsed} ${JSON.stringify(block.events, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`,
      );
    }
    return lines;
  } finally {
    await h.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  process.stdout.write(`${(await blockRuns(new ContractRuntime())).join('\n')}\n`);
}
