import { sha256 } from '../../crypto/index.ts';
import { StateError, StateKeys, type StateReader } from '../../state/index.ts';
import { bytesEqual, toHex } from '../../util/index.ts';
import { type CompiledContract, compileContract } from '../compile.ts';
import { ContractSandbox, type SandboxOptions } from '../sandbox.ts';
import { ContractRuleError } from './errors.ts';
import { type ContractRecord, readContractRecord } from './records.ts';

export interface ContractRuntimeOptions extends SandboxOptions {
  /** Most compiled contracts kept, by code hash (least recently used evicted). */
  readonly maxCompiled?: number;
}

export interface LoadedContract {
  readonly record: ContractRecord;
  readonly compiled: CompiledContract;
}

/**
 * The node's one contract engine: a warm sandbox and the compiled form of
 * each contract code, cached by code hash, so code is validated and rewritten
 * once per node (at deploy, or at first use after a restart), not per call.
 * Blocks, the mempool and queries share it; calls run one at a time.
 */
export class ContractRuntime {
  readonly sandbox: ContractSandbox;
  private readonly compiled = new Map<string, CompiledContract>();
  private readonly maxCompiled: number;

  constructor(opts: ContractRuntimeOptions = {}) {
    this.sandbox = new ContractSandbox(opts);
    this.maxCompiled = opts.maxCompiled ?? 256;
  }

  /** Validates and rewrites `source` (throws ContractError), caching the result. */
  compile(source: Uint8Array): CompiledContract {
    const key = toHex(sha256(source));
    const hit = this.compiled.get(key);
    if (hit !== undefined) {
      this.compiled.delete(key);
      this.compiled.set(key, hit);
      return hit;
    }
    // ignoreBOM: a leading BOM stays in the text, so the code hash is the hash of the stored bytes.
    const compiled = compileContract(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(source),
    );
    this.compiled.set(key, compiled);
    if (this.compiled.size > this.maxCompiled) {
      this.compiled.delete(this.compiled.keys().next().value as string);
    }
    return compiled;
  }

  /** The deployed contract `id` as of `reader`, or CONTRACT_UNKNOWN. */
  async load(reader: StateReader, id: Uint8Array): Promise<LoadedContract> {
    const record = await readContractRecord(reader, id);
    if (record === undefined) {
      throw new ContractRuleError('CONTRACT_UNKNOWN', `no contract ${toHex(id)}`, {
        contractId: toHex(id),
      });
    }
    const cached = this.compiled.get(toHex(record.codeHash));
    if (cached !== undefined) return { record, compiled: cached };
    const source = await reader.get(StateKeys.contractSource(record.codeHash));
    if (source === undefined || !bytesEqual(sha256(source), record.codeHash)) {
      // The store lost or altered what a committed block wrote: not a rule, a corrupt database.
      throw new StateError(
        'STATE_CORRUPT',
        `state holds no source for code ${toHex(record.codeHash)}`,
      );
    }
    return { record, compiled: this.compile(source) };
  }

  dispose(): void {
    this.sandbox.dispose();
    this.compiled.clear();
  }
}
