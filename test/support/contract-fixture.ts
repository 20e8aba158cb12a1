import { readFileSync } from 'node:fs';
import {
  type CallContext,
  type CallResult,
  type CompiledContract,
  type ContractSandbox,
  type ContractValue,
  compileContract,
  VmLimits,
} from '../../src/vm/index.ts';

export const testContext: CallContext = {
  contract: 'c0ffee',
  caller: 'alice',
  height: 7,
  time: 1_700_000_000_000,
};

/** Committed storage for tests: a map of canonical value text, updated only by `commit`. */
export class MemoryContractStorage {
  readonly entries = new Map<string, string>();

  get(key: string): string | null {
    return this.entries.get(key) ?? null;
  }

  commit(result: CallResult): void {
    if (!result.ok) return;
    for (const [key, value] of result.writes) {
      if (value === null) this.entries.delete(key);
      else this.entries.set(key, value);
    }
  }
}

export function callOnce(
  sandbox: ContractSandbox,
  source: string | CompiledContract,
  method: string,
  args: readonly ContractValue[] = [],
  opts: {
    gasLimit?: number;
    storage?: MemoryContractStorage;
    readOnly?: boolean;
    context?: Partial<CallContext>;
  } = {},
): CallResult {
  const contract = typeof source === 'string' ? compileContract(source) : source;
  const storage = opts.storage ?? new MemoryContractStorage();
  return sandbox.call({
    contract,
    method,
    args,
    gasLimit: opts.gasLimit ?? VmLimits.maxCallGas,
    context: { ...testContext, ...opts.context },
    storage,
    readOnly: opts.readOnly ?? false,
  });
}

/** Everything about a result that consensus depends on, as one comparable string. */
export function fingerprint(result: CallResult): string {
  const replacer = (_key: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);
  if (!result.ok)
    return JSON.stringify({
      ok: false,
      code: result.error.code,
      reason: result.error.reason,
      gas: result.gasUsed,
    });
  return JSON.stringify(
    {
      ok: true,
      value: result.value,
      gas: result.gasUsed,
      writes: [...result.writes],
      events: result.events,
    },
    replacer,
  );
}

/** Compiles one of examples/contracts by file name. */
export function exampleContract(name: string): CompiledContract {
  return compileContract(
    readFileSync(new URL(`../../examples/contracts/${name}`, import.meta.url), 'utf8'),
  );
}
