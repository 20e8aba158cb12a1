import {
  type ConsensusParams,
  checkStakingParams,
  DEVNET_PARAMS,
  type GenesisValidator,
  type NetworkName,
  type StakingParams,
  StakingParamsError,
  type Validator,
  ValidatorSet,
  writeGenesisStaking,
} from '../consensus/index.ts';
import { MuHash3072, NETWORK_HRP } from '../crypto/index.ts';
import type { Lock } from '../primitives/index.ts';
import {
  addressToLock,
  Block,
  CommitCertificate,
  HEADER_VERSION,
  Header,
  isValidAmount,
  lockToAddress,
  merkleRoot,
  sumAmounts,
  Transaction,
  TX_VERSION,
} from '../primitives/index.ts';
import { MemoryState, StateOverlay } from '../state/index.ts';
import { bytesEqual, fromHex, toHex, UtxodError } from '../util/index.ts';
import { applyUtxoChanges, createdCoins } from './utxo-changes.ts';

export class GenesisError extends UtxodError<'INVALID_GENESIS'> {
  constructor(field: string, expected: string) {
    super('INVALID_GENESIS', `genesis: "${field}" must be ${expected}`, { field });
  }
}

export interface GenesisAllocation {
  readonly address: string;
  readonly lock: Lock;
  readonly amount: bigint;
}

/** Everything that defines a chain: the genesis file, parsed and checked. */
export interface Genesis {
  readonly chainId: string;
  readonly time: number;
  readonly params: ConsensusParams;
  readonly validators: ValidatorSet;
  /**
   * Operator keys of genesis validators that have one other than their
   * consensus key, by consensus key (hex). A validator without an entry is
   * operated by its consensus key.
   */
  readonly operators?: ReadonlyMap<string, Uint8Array>;
  readonly allocations: readonly GenesisAllocation[];
}

/**
 * The genesis registry: each validator bonded with power x powerReduction
 * (part of the genesis supply, not of the allocations), operated by its
 * operator key or else by its consensus key.
 */
export function genesisStakers(genesis: Genesis): GenesisValidator[] {
  return genesis.validators.validators.map((v) => ({
    consensusKey: v.publicKey,
    operatorKey: genesis.operators?.get(toHex(v.publicKey)) ?? v.publicKey,
    bonded: v.power * genesis.params.staking.powerReduction,
  }));
}

const NO_PROPOSER = new Uint8Array(33);

type Json = Record<string, unknown>;

function field<T>(
  obj: Json,
  name: string,
  check: (v: unknown) => v is T,
  expected: string,
  path = name,
): T {
  const value = obj[name];
  if (!check(value)) throw new GenesisError(path, expected);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
const isDecimal = (v: unknown): v is string =>
  typeof v === 'string' && /^(0|[1-9]\d{0,20})$/.test(v);
const isPositiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const NETWORKS: readonly string[] = ['mainnet', 'testnet', 'devnet'];

/** Strictly parses a genesis file: unknown or malformed fields are errors naming the field. */
export function parseGenesis(text: string): Genesis {
  const doc = parseGenesisDocument(text);
  if (doc.validators.length === 0)
    throw new GenesisError('validators', 'a non-empty array of {publicKey, power}');
  let validators: ValidatorSet;
  try {
    validators = new ValidatorSet(doc.validators);
  } catch (error) {
    throw new GenesisError('validators', `a valid set (${(error as Error).message})`);
  }
  return { ...doc, validators };
}

/**
 * A genesis for a new single-validator network from a template (such as
 * genesis/devnet.json, whose validator list is empty): the template's chain,
 * parameters and allocations, `validator` as the only validator, `time` now.
 */
export function genesisFromTemplate(
  templateText: string,
  validator: Uint8Array,
  time: number,
): Genesis {
  const doc = parseGenesisDocument(templateText);
  return { ...doc, time, validators: new ValidatorSet([{ publicKey: validator, power: 10n }]) };
}

type GenesisDocument = Omit<Genesis, 'validators'> & { validators: Validator[] };

function parseGenesisDocument(text: string): GenesisDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new GenesisError('(file)', `valid JSON (${(error as Error).message})`);
  }
  if (!isObject(raw)) throw new GenesisError('(file)', 'a JSON object');
  const known = new Set(['chainId', 'network', 'time', 'params', 'validators', 'allocations']);
  for (const key of Object.keys(raw))
    if (!known.has(key)) throw new GenesisError(key, 'absent (unknown field)');

  const chainId = field(
    raw,
    'chainId',
    (v): v is string => isString(v) && /^[a-z0-9][a-z0-9-]{0,49}$/.test(v),
    'a lower-case id of 1-50 [a-z0-9-]',
  );
  const network = field(
    raw,
    'network',
    (v): v is NetworkName => isString(v) && NETWORKS.includes(v),
    'one of mainnet, testnet, devnet',
  );
  const timeText = field(raw, 'time', isString, 'an ISO-8601 time');
  const time = Date.parse(timeText);
  if (!Number.isFinite(time) || new Date(time).toISOString() !== timeText) {
    throw new GenesisError('time', 'an ISO-8601 UTC time like 2026-01-01T00:00:00.000Z');
  }
  const params = parseParams(raw.params, network, chainId);
  const hrp = NETWORK_HRP[network];

  const validatorList = field(
    raw,
    'validators',
    isArray,
    'a non-empty array of {publicKey, power}',
  );
  const operators = new Map<string, Uint8Array>();
  const validators = validatorList.map((v, i) => {
    if (!isObject(v)) throw new GenesisError(`validators[${i}]`, 'an object');
    const publicKey = field(
      v,
      'publicKey',
      (x): x is string => isString(x) && /^0[23][0-9a-f]{64}$/.test(x),
      'a 33-byte compressed public key in hex',
      `validators[${i}].publicKey`,
    );
    const power = field(
      v,
      'power',
      isDecimal,
      'a positive decimal string',
      `validators[${i}].power`,
    );
    const operator = v['operatorKey'];
    if (operator !== undefined && !(isString(operator) && /^0[23][0-9a-f]{64}$/.test(operator))) {
      throw new GenesisError(
        `validators[${i}].operatorKey`,
        'absent or a 33-byte compressed public key in hex',
      );
    }
    for (const key of Object.keys(v)) {
      if (key !== 'publicKey' && key !== 'power' && key !== 'operatorKey')
        throw new GenesisError(`validators[${i}].${key}`, 'absent (unknown field)');
    }
    if (operator !== undefined) operators.set(publicKey, fromHex(operator, 33));
    return { publicKey: fromHex(publicKey, 33), power: BigInt(power) };
  });

  const allocationList = field(raw, 'allocations', isArray, 'an array of {address, amount}');
  const allocations = allocationList.map((a, i) => {
    if (!isObject(a)) throw new GenesisError(`allocations[${i}]`, 'an object');
    const address = field(a, 'address', isString, `a ${hrp} address`, `allocations[${i}].address`);
    let lock: Lock;
    try {
      lock = addressToLock(address, hrp);
    } catch (error) {
      throw new GenesisError(
        `allocations[${i}].address`,
        `a valid ${hrp} address (${(error as Error).message})`,
      );
    }
    const amountText = field(
      a,
      'amount',
      isDecimal,
      'a decimal string of base units',
      `allocations[${i}].amount`,
    );
    const amount = BigInt(amountText);
    if (!isValidAmount(amount))
      throw new GenesisError(`allocations[${i}].amount`, 'at most MAX_MONEY');
    return { address, lock, amount };
  });
  try {
    sumAmounts(
      allocations.map((a) => a.amount),
      'allocations',
    );
  } catch {
    throw new GenesisError('allocations', 'a total of at most MAX_MONEY');
  }
  return {
    chainId,
    time,
    params,
    validators,
    allocations,
    ...(operators.size > 0 ? { operators } : {}),
  };
}

function parseParams(raw: unknown, network: NetworkName, chainId: string): ConsensusParams {
  const base = { ...DEVNET_PARAMS, network, chainId };
  if (raw === undefined) return base;
  if (!isObject(raw)) throw new GenesisError('params', 'an object');
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case 'coinbaseMaturity':
      case 'halvingInterval':
      case 'maxFutureBlockTimeMs':
      case 'checkpointInterval':
        if (!isPositiveInt(value)) throw new GenesisError(`params.${key}`, 'a positive integer');
        out[key] = value;
        break;
      case 'maxBlockBytes':
      case 'maxTxBytes':
        if (!isPositiveInt(value) || value > base[key]) {
          throw new GenesisError(`params.${key}`, `a positive integer <= ${base[key]}`);
        }
        out[key] = value;
        break;
      case 'staking':
        out[key] = parseStakingParams(value);
        break;
      case 'contracts':
        out[key] = parseContractParams(value);
        break;
      case 'initialSubsidy':
        if (!isDecimal(value) || !isValidAmount(BigInt(value))) {
          throw new GenesisError(
            'params.initialSubsidy',
            'a decimal string of base units <= MAX_MONEY',
          );
        }
        out[key] = BigInt(value);
        break;
      default:
        throw new GenesisError(`params.${key}`, 'absent (unknown parameter)');
    }
  }
  return out as unknown as ConsensusParams;
}

const STAKING_INTS = [
  'maxValidators',
  'unbondingPeriodMs',
  'signedBlocksWindow',
  'minSignedPerWindowBps',
  'downtimeJailMs',
  'slashFractionDowntimeBps',
  'slashFractionDoubleSignBps',
  'evidenceMaxAgeBlocks',
  'evidenceMaxAgeMs',
  'maxBlockEvidenceBytes',
] as const;
const STAKING_AMOUNTS = ['minSelfBond', 'powerReduction'] as const;

/** `params.staking`: any subset of the staking parameters; the rest keep their defaults. */
function parseStakingParams(raw: unknown): StakingParams {
  if (!isObject(raw)) throw new GenesisError('params.staking', 'an object');
  const out: Record<string, unknown> = { ...DEVNET_PARAMS.staking };
  for (const [key, value] of Object.entries(raw)) {
    const path = `params.staking.${key}`;
    if ((STAKING_INTS as readonly string[]).includes(key)) {
      if (!Number.isSafeInteger(value) || (value as number) < 0)
        throw new GenesisError(path, 'a non-negative integer');
      out[key] = value;
    } else if ((STAKING_AMOUNTS as readonly string[]).includes(key)) {
      if (!isDecimal(value) || !isValidAmount(BigInt(value)))
        throw new GenesisError(path, 'a decimal string of base units <= MAX_MONEY');
      out[key] = BigInt(value);
    } else {
      throw new GenesisError(path, 'absent (unknown parameter)');
    }
  }
  try {
    return checkStakingParams(out as unknown as StakingParams);
  } catch (error) {
    if (error instanceof StakingParamsError)
      throw new GenesisError('params.staking', error.message);
    throw error;
  }
}

/** `params.contracts`: any subset of the contract parameters; the rest keep their defaults. */
function parseContractParams(raw: unknown): ConsensusParams['contracts'] {
  if (!isObject(raw)) throw new GenesisError('params.contracts', 'an object');
  const out: Record<string, unknown> = { ...DEVNET_PARAMS.contracts };
  for (const [key, value] of Object.entries(raw)) {
    const path = `params.contracts.${key}`;
    if (key === 'blockGasLimit' || key === 'spendGasLimit') {
      if (!isPositiveInt(value)) throw new GenesisError(path, 'a positive integer');
      out[key] = value;
    } else if (key === 'minGasPrice') {
      if (!isDecimal(value) || BigInt(value) < 1n || !isValidAmount(BigInt(value)))
        throw new GenesisError(path, 'a decimal string of base units from 1');
      out[key] = BigInt(value);
    } else {
      throw new GenesisError(path, 'absent (unknown parameter)');
    }
  }
  return out as unknown as ConsensusParams['contracts'];
}

function serializeStakingParams(p: StakingParams): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const key of STAKING_INTS) out[key] = p[key];
  for (const key of STAKING_AMOUNTS) out[key] = p[key].toString();
  return out;
}

export function serializeGenesis(genesis: Genesis): string {
  const p = genesis.params;
  const doc = {
    chainId: genesis.chainId,
    network: p.network,
    time: new Date(genesis.time).toISOString(),
    params: {
      coinbaseMaturity: p.coinbaseMaturity,
      initialSubsidy: p.initialSubsidy.toString(),
      halvingInterval: p.halvingInterval,
      maxBlockBytes: p.maxBlockBytes,
      maxTxBytes: p.maxTxBytes,
      maxFutureBlockTimeMs: p.maxFutureBlockTimeMs,
      checkpointInterval: p.checkpointInterval,
      staking: serializeStakingParams(p.staking),
      contracts: {
        blockGasLimit: p.contracts.blockGasLimit,
        minGasPrice: p.contracts.minGasPrice.toString(),
        spendGasLimit: p.contracts.spendGasLimit,
      },
    },
    validators: genesis.validators.validators.map((v) => {
      const operator = genesis.operators?.get(toHex(v.publicKey));
      return {
        publicKey: toHex(v.publicKey),
        power: v.power.toString(),
        ...(operator === undefined ? {} : { operatorKey: toHex(operator) }),
      };
    }),
    allocations: genesis.allocations.map((a) => ({
      address: lockToAddress(a.lock, NETWORK_HRP[p.network]),
      amount: a.amount.toString(),
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * The genesis block: height 0, one transaction (shaped like a coinbase)
 * creating the allocations. Its outputs are not flagged coinbase, so premined
 * coins are spendable at once. Genesis is final by definition: no commit.
 * Its stateRoot is the genesis registry's (`genesisState`).
 */
export async function buildGenesisBlock(
  genesis: Genesis,
): Promise<{ block: Block; utxoState: MuHash3072 }> {
  const state = await genesisState(genesis);
  const tx = new Transaction({
    version: TX_VERSION,
    inputs: [],
    outputs: genesis.allocations.map((a) => ({ amount: a.amount, lock: a.lock })),
    lockTime: 0,
    payload: null,
    witnesses: [],
  });
  const utxoState = applyUtxoChanges(new MuHash3072(), {
    spent: [],
    created: createdCoins([tx], 0),
  });
  const emptyCommit = CommitCertificate.empty(new Uint8Array(32));
  const header = new Header({
    version: HEADER_VERSION,
    height: 0,
    time: genesis.time,
    prevHash: new Uint8Array(32),
    txRoot: merkleRoot([tx.wtxid]),
    utxoRoot: utxoState.finalize(),
    stateRoot: state.root(),
    validatorSetHash: genesis.validators.hash,
    nextValidatorSetHash: genesis.validators.hash,
    lastCommitHash: emptyCommit.hash,
    evidenceRoot: new Uint8Array(32),
    proposer: NO_PROPOSER,
  });
  return { block: new Block(header, emptyCommit, [tx]), utxoState };
}

/**
 * Writes the genesis registry into `overlay` (validators bonded, the sets of
 * heights 1 and 2) and checks that the set it yields is the genesis file's.
 */
export async function writeGenesisState(overlay: StateOverlay, genesis: Genesis): Promise<void> {
  let members: Awaited<ReturnType<typeof writeGenesisStaking>>;
  try {
    members = await writeGenesisStaking(overlay, genesis.params.staking, genesisStakers(genesis));
  } catch (error) {
    if (error instanceof RangeError) throw new GenesisError('validators', error.message);
    throw error;
  }
  const set = new ValidatorSet(members.map((m) => ({ publicKey: m.consensusKey, power: m.power })));
  if (!bytesEqual(set.hash, genesis.validators.hash)) {
    throw new GenesisError(
      'validators',
      `at most params.staking.maxValidators (${genesis.params.staking.maxValidators}) validators`,
    );
  }
}

/** The genesis state, in memory: its root is the genesis header's stateRoot. */
export async function genesisState(genesis: Genesis): Promise<MemoryState> {
  const memory = new MemoryState();
  const overlay = new StateOverlay(memory);
  await writeGenesisState(overlay, genesis);
  memory.apply(overlay.changes());
  return memory;
}
