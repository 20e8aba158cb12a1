import type { Command } from 'commander';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { CliError, parseCount, print } from '../shared.ts';

interface SpendFlags extends RpcFlags {
  coin: string[];
  to: string;
  amount?: string;
  signKey: string[];
  fromKey?: string;
  change?: string;
  feeRate?: string;
  spendGas?: number;
  gasPrice?: string;
  wait?: boolean;
  quiet?: boolean;
}

/**
 * The defaults of genesis `params.contracts` (docs/contracts.md). The node's
 * /chain/info does not publish them, so a network that changed them needs
 * --spend-gas and --gas-price; a fee that is too low is refused by the node
 * (TX_FEE_BELOW_GAS) before anything is spent.
 */
const DEFAULT_SPEND_GAS = 100_000;
const DEFAULT_MIN_GAS_PRICE = 1n;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface CoinRef {
  readonly txid: string;
  readonly index: number;
}

function parseCoinRef(text: string): CoinRef {
  const match = /^([0-9a-f]{64}):(\d{1,9})$/.exec(text);
  if (match === null)
    throw new CliError(
      'USAGE',
      `--coin must be TXID:VOUT (64 lowercase hex characters, a colon, an output index), got "${text}"`,
    );
  return { txid: match[1]!, index: Number(match[2]) };
}

export function registerContractSpend(contract: Command): void {
  withRpcOptions(
    contract
      .command('spend')
      .description(
        "spend coins locked to a contract: the node runs the contract's spend rule and refuses the transaction unless it returns true",
      )
      .requiredOption(
        '--coin <txid:vout>',
        'a contract-locked coin to spend (repeat for more)',
        collect,
        [],
      )
      .requiredOption('--to <address>', 'recipient address')
      .option(
        '--amount <coins>',
        'amount in coins (default: everything the coins hold, less the fee unless --from-key pays it)',
      )
      .option(
        '--sign-key <file>',
        'key file that signs contract input N, for the N-th --sign-key; its public key joins ctx.tx.signers (repeat for more)',
        collect,
        [],
      )
      .option(
        '--from-key <file>',
        'key file whose coins pay the fee; its key signs them and so joins ctx.tx.signers too',
      )
      .option(
        '--change <address>',
        'where the rest of the contract coins goes when --amount is given (default: back to the contract)',
      )
      .option('--fee-rate <rate>', 'base units per 1000 bytes (default: the node’s estimate)')
      .option(
        '--spend-gas <n>',
        `the network's spendGasLimit (default ${DEFAULT_SPEND_GAS}, the genesis default)`,
        parseCount('--spend-gas'),
      )
      .option(
        '--gas-price <n>',
        "the network's minGasPrice in base units (default 1, the genesis default)",
      )
      .option('--wait', 'wait until the transaction is committed')
      .option('-q, --quiet', 'print only the txid'),
  ).action(async (flags: SpendFlags) => {
    // Everything typed is checked before a key is read or the node is asked.
    const refs = flags.coin.map(parseCoinRef);
    const seen = new Set(refs.map((r) => `${r.txid}:${r.index}`));
    if (seen.size !== refs.length) throw new CliError('USAGE', 'the same --coin is given twice');
    if (flags.signKey.length > refs.length)
      throw new CliError(
        'USAGE',
        `${flags.signKey.length} --sign-key for ${refs.length} --coin: each contract input carries one signature; add a signer with --from-key (its fee input) or spend more coins`,
      );
    if (flags.feeRate !== undefined && !/^\d{1,15}$/.test(flags.feeRate))
      throw new CliError('USAGE', `--fee-rate must be a whole number, got "${flags.feeRate}"`);
    if (flags.gasPrice !== undefined && !/^[1-9]\d{0,15}$/.test(flags.gasPrice))
      throw new CliError(
        'USAGE',
        `--gas-price must be a whole number of base units from 1, got "${flags.gasPrice}"`,
      );
    const { AmountInputError, parseCoinAmount } = await import('../../client/amount.ts');
    let amount: bigint | undefined;
    try {
      amount = flags.amount === undefined ? undefined : parseCoinAmount(flags.amount);
    } catch (error) {
      if (error instanceof AmountInputError)
        throw new CliError('AMOUNT_INVALID', `--amount ${error.message}`, { text: flags.amount });
      throw error;
    }
    const sdk = await import('../../client/index.ts');
    const { readKeyFile } = await import('../../crypto/key-file.ts');
    const signers = flags.signKey.map((file) => readKeyFile(file));
    const payer = flags.fromKey === undefined ? undefined : readKeyFile(flags.fromKey);
    const node = await rpcClient(flags);
    const info = await node.call((api) => api.chainInfo());
    const hrp = sdk.NETWORK_HRP[info.network as keyof typeof sdk.NETWORK_HRP];
    const address = (flag: string, text: string) => {
      try {
        return sdk.addressToLock(text, hrp);
      } catch (error) {
        throw new CliError(
          'USAGE',
          `${flag} ${text} is not a ${info.network} address: ${(error as Error).message}`,
        );
      }
    };
    const toLock = address('--to', flags.to);
    const changeFlag = flags.change === undefined ? undefined : address('--change', flags.change);
    const feeRate =
      flags.feeRate !== undefined
        ? BigInt(flags.feeRate)
        : BigInt((await node.call((api) => api.feeEstimate())).feeRate);
    const dust = sdk.dustLimit(feeRate);
    if (amount !== undefined && amount < dust)
      throw new CliError(
        'AMOUNT_INVALID',
        `--amount ${flags.amount} is below the dust limit of ${sdk.formatCoins(dust)} coins at ${feeRate} per 1000 bytes`,
      );

    const contractCoins = await Promise.all(
      refs.map(async (ref) => {
        const where = `${ref.txid}:${ref.index}`;
        let coin: Awaited<ReturnType<InstanceType<typeof sdk.RpcClient>['coin']>>;
        try {
          coin = await node.call((api) => api.coin(ref.txid, ref.index));
        } catch (error) {
          if (error instanceof sdk.RpcError && error.status === 404)
            throw new CliError('USAGE', `--coin ${where}: no unspent coin there`);
          throw error;
        }
        if (coin.lock.type !== sdk.LockType.contract)
          throw new CliError(
            'USAGE',
            `--coin ${where} is not locked to a contract (${coin.address}): spend it with \`utxod send\``,
          );
        if (coin.spentInMempool)
          throw new CliError('USAGE', `--coin ${where} is already spent by a pending transaction`);
        return {
          outpoint: { txid: sdk.fromHex(ref.txid, 32), index: ref.index },
          amount: BigInt(coin.amount),
          lock: { type: sdk.LockType.contract, hash: sdk.fromHex(coin.lock.hash, 32) },
        };
      }),
    );
    const total = contractCoins.reduce((sum, c) => sum + c.amount, 0n);
    const contractIds = new Set(contractCoins.map((c) => sdk.toHex(c.lock.hash)));
    if (amount !== undefined && changeFlag === undefined && contractIds.size > 1)
      throw new CliError(
        'USAGE',
        'the coins are locked to different contracts: say where the rest goes with --change ADDRESS',
      );
    const changeLock = changeFlag ?? contractCoins[0]!.lock;

    let funding: Parameters<typeof sdk.buildContractSpend>[0]['funding'];
    let walletCoins: ReturnType<typeof sdk.spendableCoins> = [];
    if (payer !== undefined) {
      const payerLock = sdk.pubkeyLock(payer.publicKey);
      walletCoins = sdk.spendableCoins(
        await node.call((api) => api.allUtxos(sdk.lockToAddress(payerLock, hrp))),
        {
          lock: payerLock,
          tipHeight: info.tip.height,
          coinbaseMaturity: info.params.coinbaseMaturity,
        },
      );
      funding = { coins: walletCoins, keys: [payer], changeLock: payerLock };
    }
    // With no amount: everything goes to --to; unfunded, the fee comes out of
    // it, which is what the change of an output-less spend is.
    const outputs =
      amount !== undefined
        ? [{ amount, lock: toLock }]
        : funding !== undefined
          ? [{ amount: total, lock: toLock }]
          : [];
    let tx: InstanceType<typeof sdk.Transaction>;
    try {
      tx = sdk.buildContractSpend({
        chainId: info.chainId,
        contractCoins,
        signers,
        outputs,
        changeLock: amount === undefined && funding === undefined ? toLock : changeLock,
        feeRate,
        spendGasLimit: flags.spendGas ?? DEFAULT_SPEND_GAS,
        minGasPrice: flags.gasPrice === undefined ? DEFAULT_MIN_GAS_PRICE : BigInt(flags.gasPrice),
        ...(funding === undefined ? {} : { funding }),
      });
    } catch (error) {
      if (error instanceof sdk.TxBuildError && error.code === 'INSUFFICIENT_FUNDS')
        throw new CliError(
          'INSUFFICIENT_FUNDS',
          payer === undefined
            ? `${error.message}; pay the fee from a wallet with --from-key FILE`
            : error.message,
        );
      throw error;
    }
    const result = await node.call((api) => api.submitTx(tx));
    const quiet = flags.quiet === true;
    if (!quiet) {
      print(`txid:     ${result.txid}`);
      print(`status:   ${result.status}`);
      for (const output of tx.outputs)
        print(
          `output:   ${sdk.formatCoins(output.amount)} to ${sdk.lockToAddress(output.lock, hrp)}`,
        );
      print(
        `fee:      ${sdk.formatCoins(sdk.transactionFee(tx, [...contractCoins, ...walletCoins]))} (size and spend gas)`,
      );
    }
    if (flags.wait === true) {
      const committed = await node.call((api) => api.waitForTx(result.txid));
      if (!quiet) print(`committed at height ${committed.height}`);
    }
    if (quiet) print(result.txid);
  });
}
