import type { Command } from 'commander';
import type { StakingAction } from '../../client/index.ts';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { CliError, print } from '../shared.ts';

interface StakeFlags extends RpcFlags {
  fromKey: string;
  feeRate?: string;
  wait?: boolean;
  quiet?: boolean;
}

interface KeyFlags {
  consensusKey?: string;
  validatorKey?: string;
}

/** The options every staking transaction shares with `utxod send`. */
function stakeCommand(parent: Command, name: string, description: string): Command {
  return withRpcOptions(
    parent
      .command(name)
      .description(description)
      .requiredOption(
        '--from-key <file>',
        'key file of the validator operator (signs; pays the fee)',
      )
      .option(
        '--fee-rate <rate>',
        'base units per 1000 bytes (default: the node’s estimate for the next block)',
      )
      .option('--wait', 'wait until the transaction is committed')
      .option('-q, --quiet', 'print only the txid'),
  );
}

/** --amount as base units, or a one-line error naming the flag. */
async function parseAmount(text: string): Promise<bigint> {
  const { AmountInputError, parseCoinAmount } = await import('../../client/amount.ts');
  try {
    return parseCoinAmount(text);
  } catch (error) {
    if (error instanceof AmountInputError)
      throw new CliError('AMOUNT_INVALID', `--amount ${error.message}`, { text });
    throw error;
  }
}

function checkFeeRate(flags: StakeFlags): void {
  if (flags.feeRate !== undefined && !/^\d{1,15}$/.test(flags.feeRate))
    throw new CliError(
      'USAGE',
      `--fee-rate must be a whole number of base units per 1000 bytes, got "${flags.feeRate}"`,
    );
}

/** The consensus public key from --consensus-key HEX or --validator-key FILE (exactly one). */
async function consensusKeyOf(flags: KeyFlags): Promise<Uint8Array> {
  if ((flags.consensusKey === undefined) === (flags.validatorKey === undefined))
    throw new CliError(
      'USAGE',
      'give the validator’s consensus key as --consensus-key PUBHEX or --validator-key FILE (one of them)',
    );
  const { isValidConsensusKey } = await import('../../client/staking.ts');
  if (flags.validatorKey !== undefined) {
    const { readKeyFile } = await import('../../crypto/key-file.ts');
    return readKeyFile(flags.validatorKey).publicKey;
  }
  const hex = flags.consensusKey!;
  const { fromHex } = await import('../../util/bytes.ts');
  const key = /^[0-9a-fA-F]{66}$/.test(hex) ? fromHex(hex.toLowerCase(), 33) : null;
  if (key === null || !isValidConsensusKey(key))
    throw new CliError(
      'USAGE',
      `--consensus-key must be a 33-byte compressed secp256k1 public key in hex (66 characters, 02… or 03…), got "${hex}"`,
    );
  return key;
}

/** How an action is described once it is submitted. */
function describe(action: StakingAction, formatCoins: (v: bigint) => string, hex: string): string {
  switch (action.kind) {
    case 'bond':
      return `bond ${formatCoins(action.amount)} coins, consensus key ${hex}`;
    case 'unbond':
      return `unbond ${formatCoins(action.amount)} coins`;
    case 'rotateKey':
      return `rotate the consensus key to ${hex}`;
    case 'unjail':
      return 'unjail';
    case 'withdraw':
      return `withdraw ${formatCoins(action.amount)} coins unbonded at height ${action.creationHeight}`;
  }
}

/**
 * Builds, signs and submits one staking transaction. `makeAction` runs once
 * the node is reachable (withdraw reads its entry's amount from it).
 */
async function submitStaking(
  flags: StakeFlags,
  makeAction: (ctx: {
    node: Awaited<ReturnType<typeof rpcClient>>;
    validatorId: string;
  }) => Promise<StakingAction>,
): Promise<void> {
  const sdk = await import('../../client/index.ts');
  const { readKeyFile } = await import('../../crypto/key-file.ts');
  const operator = readKeyFile(flags.fromKey);
  const node = await rpcClient(flags);
  const info = await node.call((api) => api.chainInfo());
  const hrp = sdk.NETWORK_HRP[info.network as keyof typeof sdk.NETWORK_HRP];
  const lock = sdk.pubkeyLock(operator.publicKey);
  const address = sdk.lockToAddress(lock, hrp);
  const validatorId = sdk.toHex(lock.hash);
  const action = await makeAction({ node, validatorId });
  const feeRate =
    flags.feeRate !== undefined
      ? BigInt(flags.feeRate)
      : BigInt((await node.call((api) => api.feeEstimate())).feeRate);
  const coins = sdk.spendableCoins(await node.call((api) => api.allUtxos(address)), {
    lock,
    tipHeight: info.tip.height,
    coinbaseMaturity: info.params.coinbaseMaturity,
  });
  let built: ReturnType<typeof sdk.buildStakingTransaction>;
  try {
    built = sdk.buildStakingTransaction({
      chainId: info.chainId,
      action,
      operator,
      coins,
      feeRate,
    });
  } catch (error) {
    if (error instanceof sdk.TxBuildError && error.code === 'INSUFFICIENT_FUNDS')
      throw new CliError(
        'INSUFFICIENT_FUNDS',
        `${error.message} (operator ${address}; coins spent by pending transactions and immature block rewards do not count)`,
      );
    throw error;
  }
  const result = await node.call((api) => api.submitTx(built.tx));
  const quiet = flags.quiet === true;
  if (!quiet) {
    const keyHex =
      action.kind === 'bond' || action.kind === 'rotateKey' ? sdk.toHex(action.consensusKey) : '';
    print(`txid:      ${result.txid}`);
    print(`status:    ${result.status}`);
    print(`action:    ${describe(action, sdk.formatCoins, keyHex)}`);
    print(`validator: ${validatorId} (operator ${address})`);
    print(`fee:       ${sdk.formatCoins(built.fee)} (${feeRate} per 1000 bytes)`);
  }
  if (flags.wait === true) {
    const committed = await node.call((api) => api.waitForTx(result.txid));
    if (!quiet) print(`committed at height ${committed.height}`);
  }
  if (quiet) print(result.txid);
}

const consensusKeyOptions = (command: Command): Command =>
  command
    .option('--consensus-key <pubhex>', 'the validator’s consensus public key (33 bytes, hex)')
    .option('--validator-key <file>', 'or the validator key file whose public key to use');

export function registerStake(program: Command): void {
  const stake = program
    .command('stake')
    .description(
      'validator staking transactions, signed locally by the operator key (docs/staking.md)',
    );

  consensusKeyOptions(
    stakeCommand(stake, 'bond', 'bond coins to your validator (creating it on the first bond)'),
  )
    .requiredOption('--amount <coins>', 'coins to bond, up to 8 decimals')
    .action(async (flags: StakeFlags & KeyFlags & { amount: string }) => {
      const amount = await parseAmount(flags.amount);
      const consensusKey = await consensusKeyOf(flags);
      checkFeeRate(flags);
      await submitStaking(flags, async () => ({ kind: 'bond', amount, consensusKey }));
    });

  stakeCommand(stake, 'unbond', 'start unbonding coins (withdrawable after the unbonding period)')
    .requiredOption('--amount <coins>', 'coins to unbond, up to 8 decimals')
    .action(async (flags: StakeFlags & { amount: string }) => {
      const amount = await parseAmount(flags.amount);
      checkFeeRate(flags);
      await submitStaking(flags, async () => ({ kind: 'unbond', amount }));
    });

  consensusKeyOptions(
    stakeCommand(
      stake,
      'rotate-key',
      'replace your validator’s consensus key (at most once per unbonding period)',
    ),
  ).action(async (flags: StakeFlags & KeyFlags) => {
    const consensusKey = await consensusKeyOf(flags);
    checkFeeRate(flags);
    await submitStaking(flags, async () => ({ kind: 'rotateKey', consensusKey }));
  });

  stakeCommand(
    stake,
    'unjail',
    'return your jailed validator to the set once its jail time has passed',
  ).action(async (flags: StakeFlags) => {
    checkFeeRate(flags);
    await submitStaking(flags, async () => ({ kind: 'unjail' }));
  });

  stakeCommand(stake, 'withdraw', 'pay a matured unbonding entry back to the operator address')
    .requiredOption(
      '--height <n>',
      'height at which the coins were unbonded (the entry’s creation height)',
    )
    .action(async (flags: StakeFlags & { height: string }) => {
      if (!/^\d{1,10}$/.test(flags.height) || Number(flags.height) > 0xffff_ffff)
        throw new CliError('USAGE', `--height must be a block height, got "${flags.height}"`);
      const creationHeight = Number(flags.height);
      checkFeeRate(flags);
      await submitStaking(flags, async ({ node, validatorId }) => {
        // The payload names only the height; the amount must be paid out in
        // the transaction's outputs or it would become fee.
        const { RpcError } = await import('../../client/rpc-client.ts');
        let validator: Awaited<ReturnType<typeof node.api.validator>>;
        try {
          validator = await node.call((api) => api.validator(validatorId));
        } catch (error) {
          if (error instanceof RpcError && error.code === 'NOT_FOUND')
            throw new CliError(
              'USAGE',
              `--from-key is not the operator of a validator (id ${validatorId})`,
            );
          if (error instanceof RpcError && error.code === 'SERVICE_UNAVAILABLE')
            throw new CliError(
              'USAGE',
              `the node at ${node.api.url} keeps no staking state, so the amount unbonded at --height ${creationHeight} cannot be looked up`,
            );
          throw error;
        }
        const entry = validator.unbonding.find((u) => u.creationHeight === creationHeight);
        if (entry === undefined)
          throw new CliError(
            'USAGE',
            `--height ${creationHeight}: validator ${validatorId} has no unbonding entry created at that height (entries: ${validator.unbonding.map((u) => u.creationHeight).join(', ') || 'none'})`,
          );
        return { kind: 'withdraw', creationHeight, amount: BigInt(entry.amount) };
      });
    });
}
