import { bytesKey, compareBytes } from '../util/index.ts';
import type { StateKey } from './keys.ts';
import { type StateEntry, type StateReader, startsWith } from './overlay.ts';
import { computeRoot } from './proof.ts';

/**
 * A whole state held in memory, with its root computed from scratch. For
 * states that are small and short-lived: the genesis state (built before any
 * database exists) and the replay in `verify-chain`, which re-derives every
 * block's root independently of the stored tree. O(n) per root: never on the
 * block-connect path, where `StateStore.prepare` is O(k log n).
 */
export class MemoryState implements StateReader {
  private readonly map = new Map<string, StateEntry>();

  constructor(entries: Iterable<StateEntry> = []) {
    for (const e of entries) this.map.set(bytesKey(e.key), e);
  }

  static async from(reader: StateReader): Promise<MemoryState> {
    const entries: StateEntry[] = [];
    for await (const e of reader.entries()) entries.push(e);
    return new MemoryState(entries);
  }

  async get(key: StateKey): Promise<Uint8Array | undefined> {
    return this.map.get(bytesKey(key))?.value;
  }

  async *entries(prefix: Uint8Array = new Uint8Array(0)): AsyncGenerator<StateEntry> {
    yield* this.sorted().filter((e) => startsWith(e.key, prefix));
  }

  /** Applies staged writes (an overlay's `changes()`, or an undo list of old values). */
  apply(changes: Iterable<{ readonly key: StateKey; readonly value: Uint8Array | null }>): void {
    for (const { key, value } of changes) {
      if (value === null) this.map.delete(bytesKey(key));
      else this.map.set(bytesKey(key), { key, value });
    }
  }

  get size(): number {
    return this.map.size;
  }

  root(): Uint8Array {
    return computeRoot(this.map.values());
  }

  private sorted(): StateEntry[] {
    return [...this.map.values()].sort((a, b) => compareBytes(a.key, b.key));
  }
}
