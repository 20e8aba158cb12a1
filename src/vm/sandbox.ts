import { readFileSync } from 'node:fs';
import ivm from 'isolated-vm';
import type { CompiledContract } from './compile.ts';
import {
  ContractEngineError,
  ContractError,
  type ContractErrorCode,
  ContractErrorCodes,
} from './errors.ts';
import { Gas, VmLimits } from './gas.ts';
import { FORBIDDEN_GLOBALS, FORBIDDEN_MATH, FORBIDDEN_PROPERTIES } from './subset.ts';
import { type ContractValue, decodeValue, encodeValue } from './values.ts';

const PRELUDE_SOURCE = readFileSync(new URL('./prelude.guest.js', import.meta.url), 'utf8')
  .replace('__GAS_SCHEDULE__', JSON.stringify(Gas))
  .replace('__LIMITS__', JSON.stringify(VmLimits))
  .replace(
    '__FORBIDDEN__',
    JSON.stringify({
      globals: [...FORBIDDEN_GLOBALS],
      math: [...FORBIDDEN_MATH],
      properties: [...FORBIDDEN_PROPERTIES],
    }),
  );

/** What the contract sees as `ctx` besides storage and emit: plain data only. */
export interface CallContext {
  /** Contract id (hex). */
  readonly contract: string;
  /** Who called: an address, or the spending transaction's id for spend rules. */
  readonly caller: string;
  readonly height: number;
  /** Block time, ms since the epoch (contracts have no clock of their own). */
  readonly time: number;
  /** The spending transaction, when a contract-locked coin is being spent. */
  readonly tx?: ContractValue;
}

/** Read access to the contract's committed storage (canonical value text, or null). */
export interface ContractStorageReader {
  get(key: string): string | null;
}

export interface CallRequest {
  readonly contract: CompiledContract;
  readonly method: string;
  readonly args: readonly ContractValue[];
  readonly gasLimit: number;
  readonly context: CallContext;
  readonly storage: ContractStorageReader;
  /** A query: any storage write fails the call with CONTRACT_READ_ONLY. */
  readonly readOnly?: boolean;
}

export interface ContractEvent {
  readonly name: string;
  readonly data: ContractValue;
}

export type CallResult =
  | {
      readonly ok: true;
      readonly value: ContractValue;
      readonly gasUsed: number;
      /** Storage writes in order of first write: value text, or null for a delete. */
      readonly writes: ReadonlyMap<string, string | null>;
      readonly events: readonly ContractEvent[];
    }
  | { readonly ok: false; readonly error: ContractError; readonly gasUsed: number };

export interface SandboxOptions {
  /** Safety net only (see ContractEngineError). */
  readonly memoryLimitMb?: number;
  readonly timeoutMs?: number;
}

/**
 * Runs contract calls in a warm isolate with a fresh context per call: the
 * prelude and each contract's script are compiled once per isolate and run
 * in every new context, so no state survives from one call to the next.
 * Calls are synchronous: a block's calls run in block order on the thread
 * that validates it.
 */
export class ContractSandbox {
  private readonly memoryLimitMb: number;
  private readonly timeoutMs: number;
  private isolate: ivm.Isolate | null = null;
  // Not a V8 startup snapshot: isolated-vm 7 aborts the process when it builds a
  // context from a snapshot whose intrinsics were frozen, so the prelude runs
  // (compiled once per isolate) in each new context instead.
  private prelude: ivm.Script | null = null;
  private readonly scripts = new Map<string, ivm.Script>();

  constructor(opts: SandboxOptions = {}) {
    this.memoryLimitMb = opts.memoryLimitMb ?? VmLimits.isolateMemoryMb;
    this.timeoutMs = opts.timeoutMs ?? VmLimits.callTimeoutMs;
  }

  call(request: CallRequest): CallResult {
    if (
      !Number.isSafeInteger(request.gasLimit) ||
      request.gasLimit < 0 ||
      request.gasLimit > VmLimits.maxCallGas
    ) {
      throw new ContractError(
        'CONTRACT_BAD_VALUE',
        `gas limit must be an integer from 0 to ${VmLimits.maxCallGas}`,
      );
    }
    if (!request.contract.methods.includes(request.method)) {
      return failed(
        new ContractError('CONTRACT_NO_METHOD', `the contract exports no method ${request.method}`),
        0,
      );
    }
    const args = encodeValue(request.args as ContractValue, 'the arguments');
    const context = encodeValue(request.context as unknown as ContractValue, 'the call context');
    const input = JSON.stringify({
      method: request.method,
      args,
      context,
      gasLimit: request.gasLimit,
      readOnly: request.readOnly === true,
    });
    const isolate = this.warmIsolate();
    let context_: ivm.Context | null = null;
    try {
      context_ = isolate.createContextSync();
      this.prelude!.runSync(context_, { timeout: this.timeoutMs });
      this.script(isolate, request.contract).runSync(context_, { timeout: this.timeoutMs });
      const run = context_.global.getSync('__run', { reference: true }) as ivm.Reference<
        (input: string, storageGet: unknown) => string
      >;
      const storageGet = new ivm.Callback((key: string) => request.storage.get(key), {
        sync: true,
      });
      const output = run.applySync(undefined, [input, storageGet], {
        timeout: this.timeoutMs,
        result: { copy: true },
      }) as unknown;
      run.release();
      return parseOutcome(output);
    } catch (error) {
      if (error instanceof ContractError) throw error;
      // Only the safety nets (and a disposed isolate) land here: start a new isolate next time.
      this.dispose();
      throw new ContractEngineError((error as Error).message, { cause: error });
    } finally {
      context_?.release();
    }
  }

  /** Frees the isolate; the next call starts a new one. */
  dispose(): void {
    if (this.isolate !== null && !this.isolate.isDisposed) this.isolate.dispose();
    this.isolate = null;
    this.prelude = null;
    this.scripts.clear();
  }

  private warmIsolate(): ivm.Isolate {
    if (this.isolate === null || this.isolate.isDisposed) {
      this.isolate = new ivm.Isolate({ memoryLimit: this.memoryLimitMb });
      this.prelude = this.isolate.compileScriptSync(PRELUDE_SOURCE, { filename: 'utxod:prelude' });
      this.scripts.clear();
    }
    return this.isolate;
  }

  private script(isolate: ivm.Isolate, contract: CompiledContract): ivm.Script {
    let script = this.scripts.get(contract.codeHash);
    if (script === undefined) {
      script = isolate.compileScriptSync(contract.script, {
        filename: `contract:${contract.codeHash}`,
      });
      this.scripts.set(contract.codeHash, script);
    }
    return script;
  }
}

interface RawOutcome {
  ok: boolean;
  gasUsed: number;
  value?: string;
  code?: string;
  message?: string;
  writes?: [string, string | null][];
  events?: [string, string][];
}

function parseOutcome(output: unknown): CallResult {
  if (typeof output !== 'string') throw new ContractEngineError('the runtime returned no outcome');
  const raw = JSON.parse(output) as RawOutcome;
  if (!raw.ok) {
    const code = (
      raw.code !== undefined && raw.code in ContractErrorCodes ? raw.code : 'CONTRACT_REVERTED'
    ) as ContractErrorCode;
    return failed(new ContractError(code, String(raw.message ?? '')), raw.gasUsed);
  }
  return {
    ok: true,
    value: decodeValue(raw.value ?? 'null', 'the return value'),
    gasUsed: raw.gasUsed,
    writes: new Map(raw.writes ?? []),
    events: (raw.events ?? []).map(([name, data]) => ({
      name,
      data: decodeValue(data, 'event data'),
    })),
  };
}

function failed(error: ContractError, gasUsed: number): CallResult {
  return { ok: false, error, gasUsed };
}
