import type { Command } from 'commander';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { CliError, parseCount, print } from '../shared.ts';
import { registerContractSpend } from './contract-spend.ts';

interface TxFlags extends RpcFlags {
  fromKey: string;
  args?: string;
  gas?: number;
  gasPrice?: string;
  feeRate?: string;
  wait?: boolean;
  quiet?: boolean;
}

interface QueryFlags extends RpcFlags {
  args?: string;
  gas?: number;
}

/** Default gas of a call and of a deploy's init when --gas is not given. */
const DEFAULT_CALL_GAS = 100_000;
const DEFAULT_INIT_GAS = 200_000;

/**
 * `--args JSON`: a JSON array, each element a contract value; bigints are
 * written {"$bigint":"123"}. Checked before anything is signed.
 */
export function parseArgsFlag(text: string | undefined): unknown[] {
  if (text === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError('USAGE', `--args is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value))
    throw new CliError('USAGE', '--args must be a JSON array: one element per argument');
  return value;
}

/** The source of FILE, validated as a node would at deploy; errors name the file, in one line. */
async function loadContract(file: string) {
  const { readFileSync } = await import('node:fs');
  const { compileContract } = await import('../../vm/compile.ts');
  const { ContractError } = await import('../../vm/errors.ts');
  const { UtxodError } = await import('../../util/index.ts');
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError('USAGE', `cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return { source, compiled: compileContract(source) };
  } catch (error) {
    if (error instanceof ContractError)
      throw new UtxodError(error.code, `${file}: ${error.reason}`, error.details);
    throw error;
  }
}

function parseContractId(id: string): string {
  if (!/^[0-9a-f]{64}$/.test(id))
    throw new CliError('USAGE', `contract id must be 64 lowercase hex characters, got "${id}"`);
  return id;
}

function parseGasPrice(text: string | undefined): bigint {
  if (text === undefined) return 1n;
  if (!/^[1-9]\d{0,15}$/.test(text))
    throw new CliError(
      'USAGE',
      `--gas-price must be a whole number of base units from 1, got "${text}"`,
    );
  return BigInt(text);
}

function txOptions(command: Command): Command {
  return withRpcOptions(
    command
      .requiredOption(
        '--from-key <file>',
        'key file that pays and signs (mode 0600); its address is the caller',
      )
      .option('--args <json>', 'arguments as a JSON array (bigints as {"$bigint":"123"})')
      .option('--gas <n>', 'gas limit', parseCount('--gas'))
      .option('--gas-price <n>', 'base units per unit of gas (default 1, the network minimum)')
      .option('--fee-rate <rate>', 'base units per 1000 bytes (default: the node’s estimate)')
      .option('--wait', 'wait until the transaction is committed')
      .option('-q, --quiet', 'print only the txid'),
  );
}

export function registerContract(program: Command): void {
  const contract = program
    .command('contract')
    .description(
      'check, deploy, call, query and spend from JavaScript contracts (docs/contracts.md)',
    );

  contract
    .command('check')
    .argument('<file>', 'contract source (a JavaScript module)')
    .description(
      'validate a contract locally, as a node would at deploy, and print its methods and deploy gas',
    )
    .action(async (file: string) => {
      const { deployGas } = await import('../../vm/compile.ts');
      const { compiled } = await loadContract(file);
      print(`code hash:  ${compiled.codeHash}`);
      print(`methods:    ${compiled.methods.join(', ')}`);
      print(`size:       ${compiled.sourceBytes} bytes`);
      print(`deploy gas: ${deployGas(compiled.sourceBytes)} (plus what init uses)`);
    });

  txOptions(
    contract
      .command('deploy')
      .argument('<file>', 'contract source (a JavaScript module)')
      .description('deploy a contract; --args are passed to its init'),
  ).action(async (file: string, flags: TxFlags) => {
    const args = parseArgsFlag(flags.args);
    const gasPrice = parseGasPrice(flags.gasPrice);
    const { deployGas } = await import('../../vm/compile.ts');
    // Refused here, not by the node: a contract outside the subset must not cost a fee.
    const { source: code, compiled } = await loadContract(file);
    if (args.length > 0 && !compiled.methods.includes('init'))
      throw new CliError('USAGE', `--args given but ${file} exports no init`);
    const gasLimit =
      flags.gas ??
      deployGas(compiled.sourceBytes) + (compiled.methods.includes('init') ? DEFAULT_INIT_GAS : 0);
    await submit(flags, (sdk, req) => {
      const { tx, contractId } = sdk.buildDeploy({ ...req, code, args, gasLimit, gasPrice });
      return {
        tx,
        lines: (hrp) => [
          `contract: ${sdk.toHex(contractId)}`,
          `address:  ${sdk.lockToAddress(sdk.contractLock(contractId), hrp)} (pay here to lock coins to it)`,
        ],
      };
    });
  });

  txOptions(
    contract
      .command('call')
      .argument('<id>', 'contract id (hex)')
      .argument('<method>', 'exported function to call')
      .description('call a contract method in a transaction'),
  ).action(async (id: string, method: string, flags: TxFlags) => {
    const contractId = parseContractId(id);
    const args = parseArgsFlag(flags.args);
    const gasPrice = parseGasPrice(flags.gasPrice);
    const gasLimit = flags.gas ?? DEFAULT_CALL_GAS;
    await submit(flags, (sdk, req) => ({
      tx: sdk.buildCall({ ...req, contractId, method, args, gasLimit, gasPrice }),
      lines: () => [`call:     ${method} of ${contractId}, gas limit ${gasLimit}`],
    }));
  });

  withRpcOptions(
    contract
      .command('query')
      .argument('<id>', 'contract id (hex)')
      .argument('<method>', 'exported function to call read-only')
      .option('--args <json>', 'arguments as a JSON array')
      .option('--gas <n>', 'gas cap', parseCount('--gas'))
      .description('call a contract method read-only at the node’s tip (no transaction, no fee)'),
  ).action(async (id: string, method: string, flags: QueryFlags) => {
    const contractId = parseContractId(id);
    const args = parseArgsFlag(flags.args);
    const sdk = await import('../../client/index.ts');
    const node = await rpcClient(flags);
    const answer = await node.call((api) =>
      api.contractQuery(contractId, {
        method,
        args: new TextDecoder().decode(sdk.encodeContractArgs(args)),
        ...(flags.gas === undefined ? {} : { gasLimit: flags.gas }),
      }),
    );
    if (answer.ok) print(answer.value ?? 'null');
    else print(`failed: ${answer.error?.code}: ${answer.error?.reason}`);
    print(`gas used: ${answer.gasUsed}`);
    if (!answer.ok) process.exitCode = 1;
  });

  registerContractSpend(contract);
}

type Sdk = typeof import('../../client/index.ts');

/** Builds (locally, from the key file's coins), signs and submits a contract transaction. */
async function submit(
  flags: TxFlags,
  build: (
    sdk: Sdk,
    req: {
      chainId: string;
      coins: ReturnType<Sdk['spendableCoins']>;
      changeLock: ReturnType<Sdk['pubkeyLock']>;
      feeRate: bigint;
      keys: { publicKey: Uint8Array; privateKey: Uint8Array }[];
    },
  ) => { tx: InstanceType<Sdk['Transaction']>; lines: (hrp: string) => string[] },
): Promise<void> {
  if (flags.feeRate !== undefined && !/^\d{1,15}$/.test(flags.feeRate))
    throw new CliError('USAGE', `--fee-rate must be a whole number, got "${flags.feeRate}"`);
  const sdk = await import('../../client/index.ts');
  const { readKeyFile } = await import('../../crypto/key-file.ts');
  const key = readKeyFile(flags.fromKey);
  const node = await rpcClient(flags);
  const info = await node.call((api) => api.chainInfo());
  const hrp = sdk.NETWORK_HRP[info.network as keyof typeof sdk.NETWORK_HRP];
  const fromLock = sdk.pubkeyLock(key.publicKey);
  const feeRate =
    flags.feeRate !== undefined
      ? BigInt(flags.feeRate)
      : BigInt((await node.call((api) => api.feeEstimate())).feeRate);
  const coins = sdk.spendableCoins(
    await node.call((api) => api.allUtxos(sdk.lockToAddress(fromLock, hrp))),
    { lock: fromLock, tipHeight: info.tip.height, coinbaseMaturity: info.params.coinbaseMaturity },
  );
  let built: ReturnType<typeof build>;
  try {
    built = build(sdk, {
      chainId: info.chainId,
      coins,
      changeLock: fromLock,
      feeRate,
      keys: [key],
    });
  } catch (error) {
    if (error instanceof sdk.TxBuildError && error.code === 'INSUFFICIENT_FUNDS')
      throw new CliError('INSUFFICIENT_FUNDS', error.message);
    throw error;
  }
  let result: Awaited<ReturnType<InstanceType<Sdk['RpcClient']>['submitTx']>>;
  try {
    result = await node.call((api) => api.submitTx(built.tx));
  } catch (error) {
    // Nodes older than the contract chain rules refuse the payload type itself.
    if (error instanceof sdk.RpcError && error.code === 'TX_UNKNOWN_PAYLOAD') {
      throw new sdk.RpcError(
        error.status,
        error.code,
        `${error.message} (this node does not run contracts yet)`,
        { ...error.details },
        error.requestId,
      );
    }
    throw error;
  }
  if (flags.quiet === true) {
    if (flags.wait === true) await node.call((api) => api.waitForTx(result.txid));
    print(result.txid);
    return;
  }
  print(`txid:     ${result.txid}`);
  print(`status:   ${result.status}`);
  for (const line of built.lines(hrp)) print(line);
  print(`fee:      ${sdk.formatCoins(sdk.transactionFee(built.tx, coins))} (gas and size)`);
  if (flags.wait === true) {
    const committed = await node.call((api) => api.waitForTx(result.txid));
    print(`committed at height ${committed.height}`);
  }
}
