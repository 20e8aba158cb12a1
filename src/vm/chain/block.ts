import { DecodeError } from '../../encoding/index.ts';
import {
  type Coin,
  type ContractCall,
  type ContractDeploy,
  type ContractPayload,
  contractId,
  decodeContractPayload,
  isContractPayloadType,
  LockType,
  lockToAddress,
  pubkeyLock,
  type Transaction,
} from '../../primitives/index.ts';
import { StateKeys, type StateOverlay, type StateReader } from '../../state/index.ts';
import { fromHex, toHex } from '../../util/index.ts';
import { type CompiledContract, deployGas } from '../compile.ts';
import { ContractError } from '../errors.ts';
import { VmLimits } from '../gas.ts';
import type { CallContext, CallResult } from '../sandbox.ts';
import { type ContractValue, decodeValue } from '../values.ts';
import { ContractRuleError } from './errors.ts';
import { applyStorageWrites, encodeContractRecord, storageReader } from './records.ts';
import type { ContractRuntime } from './runtime.ts';
import { isEmptyWitness, spendContext } from './spend.ts';

/**
 * Consensus parameters of contracts (part of the network's genesis params;
 * changing one is a protocol upgrade).
 */
export interface ContractParams {
  /** Most gas a block's contract transactions may reserve. */
  readonly blockGasLimit: number;
  /** Least gas price, in base units per gas. */
  readonly minGasPrice: bigint;
  /** Gas each contract-locked input gives its contract's `spend` rule. */
  readonly spendGasLimit: number;
}

export const DEFAULT_CONTRACT_PARAMS: ContractParams = {
  // Five calls at the per-call maximum. A block of five of the slowest calls
  // per unit of gas found (test/contracts/worst-block.test.ts) takes about
  // 0.5 s of CPU on a loaded 2-core machine; ten took about 1 s.
  blockGasLimit: 10_000_000,
  minGasPrice: 1n,
  spendGasLimit: 100_000,
};

export interface BlockContractEvent {
  readonly contractId: string;
  readonly txid: string;
  readonly name: string;
  readonly data: ContractValue;
}

/** What one transaction's contract work means for the chain. */
export interface ContractTxResult {
  /** Gas the transaction reserves in the block (what the block gas limit counts). */
  readonly gasReserved: number;
  /** Gas actually used: deploy charge, init or call, spend rules. */
  readonly gasUsed: number;
  /**
   * The least fee the transaction must pay for gas: gas limit x gas price of
   * its payload plus spendGasLimit x minGasPrice per contract-locked input.
   * The chain checks `inputs - outputs >= gasFee` (the fee goes to the block's
   * producer like any fee). A UTXO fee is fixed when signed: nothing is refunded.
   */
  readonly gasFee: bigint;
  /** The deploy's contract id, when the deploy succeeded. */
  readonly deployed?: Uint8Array;
  /** The outcome of the deploy's init or of the call; absent for spends only. */
  readonly outcome?:
    | { readonly ok: true; readonly value: ContractValue }
    | { readonly ok: false; readonly code: string; readonly reason: string };
  readonly events: readonly BlockContractEvent[];
}

export interface ContractBlockOptions {
  readonly height: number;
  /** Block time, ms since the epoch (ctx.time). */
  readonly time: number;
  /** Address prefix of the network: callers are addresses. */
  readonly hrp: string;
  readonly params?: ContractParams;
}

export interface ContractBlockModules {
  readonly overlay: StateOverlay;
  readonly runtime: ContractRuntime;
}

/**
 * Whether `tx` has any contract work: a contract payload, a contract-locked
 * input, or an output locked to a contract (whose contract must exist).
 */
export function hasContractWork(tx: Transaction, spent: readonly Coin[]): boolean {
  return (
    (tx.payload !== null && isContractPayloadType(tx.payload.type)) ||
    spent.some((coin) => coin.lock.type === LockType.contract) ||
    tx.outputs.some((output) => output.lock.type === LockType.contract)
  );
}

/**
 * Gas reserved and gas fee owed by `tx`, from its bytes alone (the mempool's
 * view before anything runs). Throws ContractRuleError for a malformed
 * payload or a gas price under the minimum.
 */
export function contractGasOf(
  tx: Transaction,
  spent: readonly Coin[],
  params: ContractParams = DEFAULT_CONTRACT_PARAMS,
): { gasReserved: number; gasFee: bigint; payload: ContractPayload | null } {
  const payload = decodePayload(tx);
  const spends = spent.filter((coin) => coin.lock.type === LockType.contract).length;
  let gasReserved = spends * params.spendGasLimit;
  let gasFee = BigInt(gasReserved) * params.minGasPrice;
  if (payload !== null) {
    if (payload.gasPrice < params.minGasPrice) {
      throw new ContractRuleError(
        'CONTRACT_GAS_PRICE_LOW',
        `gas price ${payload.gasPrice} under the minimum ${params.minGasPrice}`,
      );
    }
    gasReserved += payload.gasLimit;
    gasFee += BigInt(payload.gasLimit) * payload.gasPrice;
  }
  return { gasReserved, gasFee, payload };
}

function decodePayload(tx: Transaction): ContractPayload | null {
  if (tx.payload === null || !isContractPayloadType(tx.payload.type)) return null;
  try {
    return decodeContractPayload(tx.payload);
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new ContractRuleError('CONTRACT_PAYLOAD_MALFORMED', error.message, {
        type: tx.payload.type,
      });
    }
    throw error;
  }
}

/**
 * The contract work of one block, over the block's state overlay, as
 * StakingBlock does for staking: pure state transitions, no I/O of their own
 * beyond the overlay, returning what the chain must check. Transactions are
 * applied in block order; one that breaks a rule throws ContractRuleError and
 * leaves no write behind. A contract call that fails (throws, runs out of gas)
 * is not a broken rule: its writes and events are dropped, it pays its gas.
 * ContractEngineError (a safety net fired) propagates: the block is then
 * neither accepted nor marked invalid.
 */
export class ContractBlock {
  private readonly height: number;
  private readonly time: number;
  private readonly hrp: string;
  readonly params: ContractParams;
  private readonly overlay: StateOverlay;
  private readonly runtime: ContractRuntime;
  private reserved = 0;
  private used = 0;
  private readonly blockEvents: BlockContractEvent[] = [];

  constructor(opts: ContractBlockOptions, modules: ContractBlockModules) {
    this.height = opts.height;
    this.time = opts.time;
    this.hrp = opts.hrp;
    this.params = opts.params ?? DEFAULT_CONTRACT_PARAMS;
    this.overlay = modules.overlay;
    this.runtime = modules.runtime;
  }

  /** Gas reserved so far (what the block gas limit counts) and used so far. */
  get gasReserved(): number {
    return this.reserved;
  }

  get gasUsed(): number {
    return this.used;
  }

  /** Events of the successful calls so far, in block order. */
  get events(): readonly BlockContractEvent[] {
    return this.blockEvents;
  }

  /**
   * Runs the contract work of `tx` (`spent`: the coins of its inputs, in
   * input order): every contract-locked input's spend rule, then its deploy
   * or call payload. Returns null when the transaction has none.
   */
  async applyTx(tx: Transaction, spent: readonly Coin[]): Promise<ContractTxResult | null> {
    if (!hasContractWork(tx, spent)) return null;
    const { gasReserved, gasFee, payload } = contractGasOf(tx, spent, this.params);
    if (this.reserved + gasReserved > this.params.blockGasLimit) {
      throw new ContractRuleError(
        'CONTRACT_BLOCK_GAS',
        `the block would reserve ${this.reserved + gasReserved} gas, over ${this.params.blockGasLimit}`,
        { txid: toHex(tx.txid) },
      );
    }
    const fork = this.overlay.fork();
    await this.checkOutputs(fork, tx);
    let gasUsed = 0;
    for (let i = 0; i < spent.length; i++) {
      if (spent[i]!.lock.type !== LockType.contract) continue;
      gasUsed += await this.checkSpend(fork, tx, spent, i);
    }
    let result: Omit<ContractTxResult, 'gasReserved' | 'gasFee'> = { gasUsed, events: [] };
    if (payload?.kind === 'deploy') result = await this.deploy(fork, tx, payload, gasUsed);
    else if (payload?.kind === 'call') result = await this.call(fork, tx, payload, gasUsed);
    fork.mergeInto(this.overlay);
    this.reserved += gasReserved;
    this.used += result.gasUsed;
    this.blockEvents.push(...result.events);
    return { ...result, gasReserved, gasFee };
  }

  /**
   * Coins may be locked only to a contract that exists before this
   * transaction: a lock to no contract could never be spent. (A deploy cannot
   * fund itself: its txid, and so its id, covers its outputs.)
   */
  private async checkOutputs(reader: StateReader, tx: Transaction): Promise<void> {
    const known = new Set<string>();
    for (const [index, output] of tx.outputs.entries()) {
      if (output.lock.type !== LockType.contract) continue;
      const id = toHex(output.lock.hash);
      if (known.has(id)) continue;
      if ((await reader.get(StateKeys.contractCode(output.lock.hash))) === undefined) {
        throw new ContractRuleError(
          'CONTRACT_UNKNOWN',
          `output ${index} is locked to no contract ${id}`,
          { txid: toHex(tx.txid), outputIndex: index },
        );
      }
      known.add(id);
    }
  }

  /**
   * A contract-locked input is valid only if its contract's `spend`, run
   * read-only with ctx.tx, returns exactly `true` within spendGasLimit.
   * Returns the gas it used.
   */
  private async checkSpend(
    reader: StateReader,
    tx: Transaction,
    spent: readonly Coin[],
    inputIndex: number,
  ): Promise<number> {
    const id = spent[inputIndex]!.lock.hash;
    const { compiled } = await this.runtime.load(reader, id);
    const result = await this.run(reader, compiled, id, {
      method: 'spend',
      args: [],
      gasLimit: this.params.spendGasLimit,
      caller: toHex(tx.txid),
      tx: spendContext(tx, spent, inputIndex),
      readOnly: true,
    });
    if (!result.ok || result.value !== true) {
      const why = result.ok
        ? `spend returned ${JSON.stringify(result.value)}`
        : result.error.message;
      throw new ContractRuleError('CONTRACT_SPEND_REFUSED', `input ${inputIndex}: ${why}`, {
        txid: toHex(tx.txid),
        inputIndex,
        contractId: toHex(id),
      });
    }
    return result.gasUsed;
  }

  private async deploy(
    fork: StateOverlay,
    tx: Transaction,
    payload: ContractDeploy,
    spendGas: number,
  ): Promise<Omit<ContractTxResult, 'gasReserved' | 'gasFee'>> {
    let compiled: CompiledContract;
    try {
      compiled = this.runtime.compile(payload.code);
    } catch (error) {
      if (error instanceof ContractError) {
        throw new ContractRuleError('CONTRACT_DEPLOY_REFUSED', error.message, {
          txid: toHex(tx.txid),
        });
      }
      throw error;
    }
    const base = deployGas(payload.code.length);
    const hasInit = compiled.methods.includes('init');
    const initGas = payload.gasLimit - base;
    if (initGas < 0 || (hasInit && initGas > VmLimits.maxCallGas)) {
      throw new ContractRuleError(
        'CONTRACT_GAS_LIMIT',
        `a deploy of ${payload.code.length} bytes needs ${base} gas${hasInit ? ` plus at most ${VmLimits.maxCallGas} for init` : ''}; the limit is ${payload.gasLimit}`,
      );
    }
    const args = payload.args.length === 0 ? [] : decodeArgs(payload.args);
    if (!hasInit && args.length > 0) {
      throw new ContractRuleError(
        'CONTRACT_BAD_ARGS',
        'init arguments for a contract with no init',
      );
    }
    const id = contractId(tx.txid);
    const caller = this.caller(tx);
    if ((await fork.get(StateKeys.contractCode(id))) !== undefined) {
      throw new ContractRuleError('CONTRACT_DEPLOY_REFUSED', `contract ${toHex(id)} exists`);
    }
    let gasUsed = spendGas + base;
    let outcome: ContractTxResult['outcome'] = { ok: true, value: null };
    let events: BlockContractEvent[] = [];
    const init = fork.fork();
    if (hasInit) {
      const result = await this.run(init, compiled, id, {
        method: 'init',
        args,
        gasLimit: initGas,
        caller,
      });
      gasUsed += result.gasUsed;
      outcome = this.settle(init, id, result);
      if (result.ok) events = this.eventsOf(id, tx, result);
    }
    if (!outcome.ok) return { gasUsed, outcome, events: [] };
    const codeHash = fromHex(compiled.codeHash, 32);
    init.put(
      StateKeys.contractCode(id),
      encodeContractRecord({ codeHash, deployHeight: this.height, deployTxid: tx.txid }),
    );
    const sourceKey = StateKeys.contractSource(codeHash);
    if ((await init.get(sourceKey)) === undefined) init.put(sourceKey, payload.code);
    init.mergeInto(fork);
    return { gasUsed, outcome, events, deployed: id };
  }

  private async call(
    fork: StateOverlay,
    tx: Transaction,
    payload: ContractCall,
    spendGas: number,
  ): Promise<Omit<ContractTxResult, 'gasReserved' | 'gasFee'>> {
    if (payload.gasLimit > VmLimits.maxCallGas) {
      throw new ContractRuleError(
        'CONTRACT_GAS_LIMIT',
        `a call may use at most ${VmLimits.maxCallGas} gas; the limit is ${payload.gasLimit}`,
      );
    }
    const args = decodeArgs(payload.args);
    const caller = this.caller(tx);
    const { compiled } = await this.runtime.load(fork, payload.contractId);
    // The call's own overlay: a failed call leaves nothing behind, the spends' reads stay.
    const own = fork.fork();
    const result = await this.run(own, compiled, payload.contractId, {
      method: payload.method,
      args,
      gasLimit: payload.gasLimit,
      caller,
    });
    const outcome = this.settle(own, payload.contractId, result);
    if (outcome.ok) own.mergeInto(fork);
    return {
      gasUsed: spendGas + result.gasUsed,
      outcome,
      events: result.ok ? this.eventsOf(payload.contractId, tx, result) : [],
    };
  }

  /** Stages a successful call's writes on `overlay`; describes the outcome either way. */
  private settle(
    overlay: StateOverlay,
    id: Uint8Array,
    result: CallResult,
  ): NonNullable<ContractTxResult['outcome']> {
    if (!result.ok) return { ok: false, code: result.error.code, reason: result.error.reason };
    applyStorageWrites(overlay, id, result.writes);
    return { ok: true, value: result.value };
  }

  private eventsOf(id: Uint8Array, tx: Transaction, result: CallResult): BlockContractEvent[] {
    if (!result.ok) return [];
    const contract = toHex(id);
    const txid = toHex(tx.txid);
    return result.events.map((e) => ({ contractId: contract, txid, ...e }));
  }

  /** The caller of a deploy or call: the address of the key that signed the first input. */
  private caller(tx: Transaction): string {
    const witness = tx.witnesses[0];
    if (witness === undefined || isEmptyWitness(witness)) {
      throw new ContractRuleError('CONTRACT_NO_CALLER', 'the first input is signed by no key', {
        txid: toHex(tx.txid),
      });
    }
    return lockToAddress(pubkeyLock(witness.publicKey), this.hrp);
  }

  private run(
    reader: StateReader,
    contract: CompiledContract,
    id: Uint8Array,
    call: {
      method: string;
      args: readonly ContractValue[];
      gasLimit: number;
      caller: string;
      tx?: ContractValue;
      readOnly?: boolean;
    },
  ): Promise<CallResult> {
    const context: CallContext = {
      contract: toHex(id),
      caller: call.caller,
      height: this.height,
      time: this.time,
      ...(call.tx === undefined ? {} : { tx: call.tx }),
    };
    return this.runtime.sandbox.callAsync({
      contract,
      method: call.method,
      args: call.args,
      gasLimit: call.gasLimit,
      context,
      storage: storageReader(reader, id),
      readOnly: call.readOnly === true,
    });
  }
}

function decodeArgs(bytes: Uint8Array): ContractValue[] {
  let value: ContractValue;
  try {
    value = decodeValue(new TextDecoder().decode(bytes), 'the arguments');
  } catch (error) {
    if (error instanceof ContractError) {
      throw new ContractRuleError('CONTRACT_BAD_ARGS', error.reason);
    }
    throw error;
  }
  if (!Array.isArray(value)) throw new ContractRuleError('CONTRACT_BAD_ARGS', 'not an array');
  return value;
}

/**
 * A read-only call against a state (a committed root or a block's overlay):
 * the API's query. Writes fail the call with CONTRACT_READ_ONLY.
 */
export async function queryContract(
  runtime: ContractRuntime,
  reader: StateReader,
  q: {
    contractId: Uint8Array;
    method: string;
    args: readonly ContractValue[];
    gasLimit: number;
    height: number;
    time: number;
    caller?: string;
  },
): Promise<CallResult> {
  const { compiled } = await runtime.load(reader, q.contractId);
  return runtime.sandbox.callAsync({
    contract: compiled,
    method: q.method,
    args: q.args,
    gasLimit: q.gasLimit,
    context: {
      contract: toHex(q.contractId),
      caller: q.caller ?? '',
      height: q.height,
      time: q.time,
    },
    storage: storageReader(reader, q.contractId),
    readOnly: true,
  });
}
