import type { Command } from 'commander';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { CliError, print } from '../shared.ts';

interface SendFlags extends RpcFlags {
  fromKey: string;
  to: string;
  amount: string;
  feeRate?: string;
  wait?: boolean;
  quiet?: boolean;
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
      .option('--wait', 'wait until the transaction is committed')
      .option('-q, --quiet', 'print only the txid (for scripts: txid=$(utxod send ... -q))'),
  ).action(async (flags: SendFlags) => {
    // Everything the user typed is checked before the node is asked anything
    // (and before the signing code is loaded: a typo answers at once).
    const { AmountInputError, parseCoinAmount } = await import('../../client/amount.ts');
    let amount: bigint;
    try {
      amount = parseCoinAmount(flags.amount);
    } catch (error) {
      if (error instanceof AmountInputError)
        throw new CliError('AMOUNT_INVALID', `--amount ${error.message}`, { text: flags.amount });
      throw error;
    }
    if (flags.feeRate !== undefined && !/^\d{1,15}$/.test(flags.feeRate))
      throw new CliError(
        'USAGE',
        `--fee-rate must be a whole number of base units per 1000 bytes, got "${flags.feeRate}"`,
      );
    const sdk = await import('../../client/index.ts');
    const { readKeyFile } = await import('../../crypto/key-file.ts');
    const key = readKeyFile(flags.fromKey);
    const node = await rpcClient(flags);
    const info = await node.call((api) => api.chainInfo());
    const hrp = sdk.NETWORK_HRP[info.network as keyof typeof sdk.NETWORK_HRP];
    // Checked before anything is signed: a typo'd address must never cost coins.
    let toLock: ReturnType<typeof sdk.addressToLock>;
    try {
      toLock = sdk.addressToLock(flags.to, hrp);
    } catch (error) {
      throw new CliError(
        'USAGE',
        `--to ${flags.to} is not a ${info.network} address: ${(error as Error).message}`,
      );
    }
    const fromLock = sdk.pubkeyLock(key.publicKey);
    const fromAddress = sdk.lockToAddress(fromLock, hrp);
    const feeRate =
      flags.feeRate !== undefined
        ? BigInt(flags.feeRate)
        : BigInt((await node.call((api) => api.feeEstimate())).feeRate);
    const dust = sdk.dustLimit(feeRate);
    if (amount < dust)
      throw new CliError(
        'AMOUNT_INVALID',
        `--amount ${flags.amount} is below the dust limit of ${sdk.formatCoins(dust)} coins at ${feeRate} per 1000 bytes: spending it would cost more than a third of its value`,
      );
    const coins = sdk.spendableCoins(await node.call((api) => api.allUtxos(fromAddress)), {
      lock: fromLock,
      tipHeight: info.tip.height,
      coinbaseMaturity: info.params.coinbaseMaturity,
    });
    let tx: ReturnType<typeof sdk.buildTransaction>;
    try {
      tx = sdk.buildTransaction({
        chainId: info.chainId,
        coins,
        outputs: [{ amount, lock: toLock }],
        changeLock: fromLock,
        feeRate,
        keys: [key],
      });
    } catch (error) {
      if (error instanceof sdk.TxBuildError && error.code === 'INSUFFICIENT_FUNDS') {
        const available = BigInt(error.details['available'] as string);
        const fee = BigInt(error.details['fee'] as string);
        throw new CliError(
          'INSUFFICIENT_FUNDS',
          `insufficient funds: ${fromAddress} can spend ${sdk.formatCoins(available)} coins, and sending ${flags.amount} coins needs ${flags.amount} plus a fee of ${sdk.formatCoins(fee)}` +
            ' (coins already spent by pending transactions and immature block rewards do not count)',
        );
      }
      throw error;
    }
    const fee = sdk.transactionFee(tx, coins);
    const result = await node.call((api) => api.submitTx(tx));
    const quiet = flags.quiet === true;
    if (!quiet) {
      print(`txid:   ${result.txid}`);
      print(`status: ${result.status}`);
      print(`amount: ${sdk.formatCoins(amount)} to ${flags.to}`);
      print(`fee:    ${sdk.formatCoins(fee)} (${feeRate} per 1000 bytes)`);
    }
    if (flags.wait === true) {
      const committed = await node.call((api) => api.waitForTx(result.txid));
      if (!quiet) print(`committed at height ${committed.height}`);
    }
    if (quiet) print(result.txid);
  });
}
