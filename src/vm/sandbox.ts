import { readFileSync } from 'node:fs';
import ivm from 'isolated-vm';
import { SerialQueue } from '../util/index.ts';
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

/** The same, from a store that reads asynchronously (the state store). */
export interface AsyncContractStorageReader {
  get(key: string): Promise<string | null>;
}

interface BaseCallRequest {
  readonly contract: CompiledContract;
  readonly method: string;
  readonly args: readonly ContractValue[];
  readonly gasLimit: number;
  readonly context: CallContext;
  /** A query: any storage write fails the call with CONTRACT_READ_ONLY. */
  readonly readOnly?: boolean;
}

export interface CallRequest extends BaseCallRequest {
  readonly storage: ContractStorageReader;
}

export interface AsyncCallRequest extends BaseCallRequest {
  readonly storage: AsyncContractStorageReader;
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
  /**
   * false: a new context per call, the runtime installed in each (slow; kept
   * to prove warm contexts change no result). Default true.
   */
  readonly warmContexts?: boolean;
  /** Most warm contexts kept (one per contract code), least recently used evicted. */
  readonly maxWarmContexts?: number;
}

type RunFn = (input: string, get: unknown, getAsync: unknown) => string;

/** A context with the runtime and one contract's script installed. */
interface WarmContext {
  readonly context: ivm.Context;
  readonly run: ivm.Reference<RunFn>;
  readonly getSync: ivm.Callback;
  readonly getAsync: ivm.Reference<(key: string) => Promise<string | null>>;
  /** The reader of the call in progress; the callbacks above read through it. */
  reader: ContractStorageReader | AsyncContractStorageReader | null;
  /** A read of the call in progress that failed (an I/O error, not a contract's doing). */
  readError: unknown;
}

/**
 * Runs contract calls in one warm isolate. By default each contract code gets
 * a warm context: the runtime (prelude) and the contract's script are run in
 * it once, everything reachable from its global object is frozen, and each
 * call resets the runtime's per-call state and rebuilds the contract's module
 * from its factory, so no call sees anything an earlier call did (the fresh
 * vs warm tests check this byte for byte). Installing the runtime is what
 * costs milliseconds; a warm call costs a host/guest round trip and the
 * contract's own work.
 *
 * Not a V8 startup snapshot: isolated-vm 7 aborts the process when it builds a
 * context from a snapshot whose intrinsics were frozen.
 */
export class ContractSandbox {
  private readonly memoryLimitMb: number;
  private readonly timeoutMs: number;
  private readonly warm: boolean;
  private readonly maxWarm: number;
  private isolate: ivm.Isolate | null = null;
  private prelude: ivm.Script | null = null;
  /** Compiled once per isolate, by code hash. */
  private readonly scripts = new Map<string, ivm.Script>();
  /** By code hash, in least-recently-used order (Map iteration order). */
  private readonly contexts = new Map<string, WarmContext>();
  /**
   * Asynchronous calls run one at a time, in call order: two on one warm
   * context would meet the runtime's one-call-at-a-time guard, and that
   * failure would depend on timing, not on the calls.
   */
  private readonly queue = new SerialQueue();
  private asyncInFlight = 0;

  constructor(opts: SandboxOptions = {}) {
    this.memoryLimitMb = opts.memoryLimitMb ?? VmLimits.isolateMemoryMb;
    this.timeoutMs = opts.timeoutMs ?? VmLimits.callTimeoutMs;
    this.warm = opts.warmContexts ?? true;
    // About 0.3 MB of isolate heap each (measured): 32 keep ~10 MB of the 128 MB net.
    this.maxWarm = opts.maxWarmContexts ?? 32;
  }

  /** A call whose storage reads are synchronous (tests, queries over a cache). */
  call(request: CallRequest): CallResult {
    // A synchronous call would block the thread that must answer the running
    // call's storage reads: a deadlock, refused instead.
    if (this.asyncInFlight > 0) {
      throw new Error('ContractSandbox.call while an asynchronous call is running');
    }
    const prepared = this.prepare(request);
    if ('result' in prepared) return prepared.result;
    const slot = this.enter(request);
    slot.reader = request.storage;
    try {
      const output = slot.run.applySync(undefined, [prepared.input, slot.getSync, undefined], {
        timeout: this.timeoutMs,
        result: { copy: true },
      }) as unknown;
      checkReads(slot);
      return parseOutcome(output);
    } catch (error) {
      throw this.engineFault(error);
    } finally {
      this.leave(slot);
    }
  }

  /**
   * A call whose storage reads are asynchronous (the state store): the isolate
   * runs on isolated-vm's thread pool and blocks on each read until the host
   * answers. Overlapping calls are queued and run in call order.
   */
  async callAsync(request: AsyncCallRequest): Promise<CallResult> {
    this.asyncInFlight++;
    try {
      return await this.queue.run(() => this.runAsync(request));
    } finally {
      this.asyncInFlight--;
    }
  }

  private async runAsync(request: AsyncCallRequest): Promise<CallResult> {
    const prepared = this.prepare(request);
    if ('result' in prepared) return prepared.result;
    const slot = this.enter(request);
    slot.reader = request.storage;
    try {
      const output = (await slot.run.apply(undefined, [prepared.input, undefined, slot.getAsync], {
        timeout: this.timeoutMs,
        result: { copy: true },
      })) as unknown;
      checkReads(slot);
      return parseOutcome(output);
    } catch (error) {
      throw this.engineFault(error);
    } finally {
      this.leave(slot);
    }
  }

  /** Frees the isolate; the next call starts a new one. */
  dispose(): void {
    for (const slot of this.contexts.values()) releaseSlot(slot);
    this.contexts.clear();
    if (this.isolate !== null && !this.isolate.isDisposed) this.isolate.dispose();
    this.isolate = null;
    this.prelude = null;
    this.scripts.clear();
  }

  private prepare(request: BaseCallRequest): { input: string } | { result: CallResult } {
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
      return {
        result: failed(
          new ContractError(
            'CONTRACT_NO_METHOD',
            `the contract exports no method ${request.method}`,
          ),
          0,
        ),
      };
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
    return { input };
  }

  /** The context a call runs in: the contract's warm one, or a new one. */
  private enter(request: BaseCallRequest): WarmContext {
    const isolate = this.warmIsolate();
    const codeHash = request.contract.codeHash;
    if (this.warm) {
      const slot = this.contexts.get(codeHash);
      if (slot !== undefined) {
        // Most recently used last.
        this.contexts.delete(codeHash);
        this.contexts.set(codeHash, slot);
        return slot;
      }
    }
    let slot: WarmContext;
    try {
      slot = this.install(isolate, request.contract);
    } catch (error) {
      throw this.engineFault(error);
    }
    if (this.warm) {
      this.contexts.set(codeHash, slot);
      if (this.contexts.size > this.maxWarm) {
        const [oldest, old] = this.contexts.entries().next().value as [string, WarmContext];
        this.contexts.delete(oldest);
        releaseSlot(old);
      }
    }
    return slot;
  }

  private leave(slot: WarmContext): void {
    slot.reader = null;
    slot.readError = undefined;
    // After a safety-net fault the isolate (and every context) is already gone.
    if (!this.warm && this.isolate !== null) releaseSlot(slot);
  }

  private install(isolate: ivm.Isolate, contract: CompiledContract): WarmContext {
    const context = isolate.createContextSync();
    this.prelude!.runSync(context, { timeout: this.timeoutMs });
    this.script(isolate, contract).runSync(context, { timeout: this.timeoutMs });
    const run = context.global.getSync('__run', { reference: true }) as ivm.Reference<RunFn>;
    const slot: WarmContext = {
      context,
      run,
      reader: null,
      readError: undefined,
      getSync: new ivm.Callback(
        (key: string) => {
          try {
            const reader = slot.reader as ContractStorageReader | null;
            if (reader === null) throw new Error('no call in progress');
            return reader.get(key);
          } catch (error) {
            slot.readError = error;
            throw error;
          }
        },
        { sync: true },
      ),
      getAsync: new ivm.Reference(async (key: string) => {
        try {
          const reader = slot.reader as AsyncContractStorageReader | null;
          if (reader === null) throw new Error('no call in progress');
          return await reader.get(key);
        } catch (error) {
          slot.readError = error;
          throw error;
        }
      }),
    };
    return slot;
  }

  private engineFault(error: unknown): Error {
    if (error instanceof ContractError || error instanceof ContractEngineError) return error;
    // Only the safety nets (and a disposed isolate) land here: start a new isolate next time.
    this.dispose();
    return new ContractEngineError((error as Error).message, { cause: error });
  }

  private warmIsolate(): ivm.Isolate {
    if (this.isolate === null || this.isolate.isDisposed) {
      this.dispose();
      this.isolate = new ivm.Isolate({ memoryLimit: this.memoryLimitMb });
      this.prelude = this.isolate.compileScriptSync(PRELUDE_SOURCE, { filename: 'utxod:prelude' });
    }
    return this.isolate;
  }

  private script(isolate: ivm.Isolate, contract: CompiledContract): ivm.Script {
    let script = this.scripts.get(contract.codeHash);
    if (script !== undefined) {
      this.scripts.delete(contract.codeHash);
    } else {
      script = isolate.compileScriptSync(contract.script, {
        filename: `contract:${contract.codeHash}`,
      });
      // Bounded like the contexts: a long-running node sees unboundedly many contracts.
      if (this.scripts.size >= this.maxWarm * 2) {
        const [oldest, old] = this.scripts.entries().next().value as [string, ivm.Script];
        this.scripts.delete(oldest);
        old.release();
      }
    }
    this.scripts.set(contract.codeHash, script);
    return script;
  }
}

/**
 * A storage read that failed on the host (a database error) reaches the guest
 * as an exception a contract could catch and go on from: whatever the call
 * then returned depends on this node's disk, so it is never a result.
 */
function checkReads(slot: WarmContext): void {
  if (slot.readError !== undefined) {
    const cause = slot.readError;
    throw new ContractEngineError(`a storage read failed: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
  }
}

function releaseSlot(slot: WarmContext): void {
  slot.run.release();
  slot.getAsync.release();
  slot.context.release();
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
