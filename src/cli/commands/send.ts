import type { Command } from 'commander';
import { buildTransaction, type SpendableCoin } from '../../client/index.ts';
import { NETWORK_HRP, readKeyFile } from '../../crypto/index.ts';
import {
  addressToLock,
  formatCoins,
  lockToAddress,
  parseCoins,
  pubkeyLock,
} from '../../primitives/index.ts';
import { fromHex, toHex } from '../../util/index.ts';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { print } from '../shared.ts';

interface SendFlags extends RpcFlags {
  fromKey: string;
  to: string;
  amount: string;
  feeRate?: string;
  wait?: boolean;
}

export function registerSend(program: Command): void {
  withRpcOptions(
    program
      .command('send')
      .description("pay an address from a key file's coins (selected and signed locally)")
      .requiredOption('--from-key <file>', 'key file of the payer (mode 0600)')
      .requiredOption('--to <address>', 'recipient address')
      .requiredOption('--amount <coins>', 'amount in coins, up to 8 decimals (e.g. 1.5)')
      .option(
        '--fee-rate <rate>',
        'base units per 1000 bytes (default: the node’s estimate for the next block)',
      )
      .option('--wait', 'wait until the transaction is committed'),
  ).action(async (flags: SendFlags) => {
    const client = rpcClient(flags);
    const key = readKeyFile(flags.fromKey);
    const amount = parseCoins(flags.amount);
    const info = await client.chainInfo();
    const hrp = NETWORK_HRP[info.network];
    // Checked before anything is signed: a typo'd address must never cost coins.
    const toLock = addressToLock(flags.to, hrp);
    const fromLock = pubkeyLock(key.publicKey);
    const fromAddress = lockToAddress(fromLock, hrp);
    if (flags.feeRate !== undefined && !/^\d{1,15}$/.test(flags.feeRate))
      throw new Error(`--fee-rate must be a whole number of base units per 1000 bytes`);
    const feeRate =
      flags.feeRate !== undefined
        ? BigInt(flags.feeRate)
        : BigInt((await client.feeEstimate()).feeRate);
    // Coins a pending transaction already spends would make this one a conflict.
    const coins: SpendableCoin[] = (await client.allUtxos(fromAddress))
      .filter((c) => !c.spentInMempool)
      .filter((c) => !c.coinbase || info.tip.height + 1 - c.height >= info.params.coinbaseMaturity)
      .map((c) => ({
        outpoint: { txid: fromHex(c.txid, 32), index: c.index },
        amount: BigInt(c.amount),
        lock: fromLock,
      }));
    const tx = buildTransaction({
      chainId: info.chainId,
      coins,
      outputs: [{ amount, lock: toLock }],
      changeLock: fromLock,
      feeRate,
      keys: [key],
    });
    const selected = new Set(tx.inputs.map((i) => `${toHex(i.prevout.txid)}:${i.prevout.index}`));
    const spent = coins
      .filter((c) => selected.has(`${toHex(c.outpoint.txid)}:${c.outpoint.index}`))
      .reduce((sum, c) => sum + c.amount, 0n);
    const fee = spent - tx.outputs.reduce((sum, o) => sum + o.amount, 0n);
    const result = await client.submitTx(tx);
    print(`txid:   ${result.txid}`);
    print(`status: ${result.status}`);
    print(`amount: ${formatCoins(amount)} to ${flags.to}`);
    print(`fee:    ${formatCoins(fee)} (${feeRate} per 1000 bytes)`);
    if (flags.wait === true) {
      const committed = await client.waitForTx(result.txid);
      print(`committed at height ${committed.height}`);
    }
  });
}
