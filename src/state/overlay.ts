import { bytesKey, compareBytes } from '../util/index.ts';
import { StateError } from './errors.ts';
import { asStateKey, MAX_STATE_VALUE_BYTES, type StateKey } from './keys.ts';

export interface StateEntry {
  readonly key: StateKey;
  readonly value: Uint8Array;
}

/** Read access to a state: the committed store, or an overlay on top of it. */
export interface StateReader {
  get(key: StateKey): Promise<Uint8Array | undefined>;
  /** Entries whose key starts with `prefix`, in key order, streamed. */
  entries(prefix?: Uint8Array): AsyncIterable<StateEntry>;
}

interface Staged {
  readonly key: StateKey;
  readonly value: Uint8Array | null;
}

/**
 * Staged puts and deletes over a reader. Reads see the overlay's own writes;
 * nothing reaches the base until the owner merges it (`mergeInto`) or the
 * store turns it into a block's batch (`StateStore.prepare`).
 */
export class StateOverlay implements StateReader {
  private readonly base: StateReader;
  private readonly staged = new Map<string, Staged>();

  constructor(base: StateReader) {
    this.base = base;
  }

  async get(key: StateKey): Promise<Uint8Array | undefined> {
    const staged = this.staged.get(bytesKey(key));
    if (staged !== undefined) return staged.value ?? undefined;
    return this.base.get(key);
  }

  put(key: StateKey, value: Uint8Array): void {
    asStateKey(key);
    if (value.length > MAX_STATE_VALUE_BYTES) {
      throw new StateError('STATE_VALUE_TOO_LARGE', `value of ${value.length} bytes`);
    }
    this.staged.set(bytesKey(key), { key, value: new Uint8Array(value) });
  }

  delete(key: StateKey): void {
    asStateKey(key);
    this.staged.set(bytesKey(key), { key, value: null });
  }

  /** True if this overlay sits directly on `reader` (not on another overlay). */
  isOver(reader: StateReader): boolean {
    return this.base === reader;
  }

  /** A child overlay: its writes reach this one only through `mergeInto`. */
  fork(): StateOverlay {
    return new StateOverlay(this);
  }

  mergeInto(parent: StateOverlay): void {
    for (const { key, value } of this.staged.values()) {
      if (value === null) parent.delete(key);
      else parent.put(key, value);
    }
  }

  get size(): number {
    return this.staged.size;
  }

  /** The staged writes, by key. */
  changes(): readonly Staged[] {
    return [...this.staged.values()].sort((a, b) => compareBytes(a.key, b.key));
  }

  async *entries(prefix: Uint8Array = new Uint8Array(0)): AsyncGenerator<StateEntry> {
    const staged = this.changes().filter((s) => startsWith(s.key, prefix));
    let i = 0;
    for await (const entry of this.base.entries(prefix)) {
      while (i < staged.length && compareBytes(staged[i]!.key, entry.key) < 0) {
        const s = staged[i++]!;
        if (s.value !== null) yield { key: s.key, value: s.value };
      }
      if (i < staged.length && compareBytes(staged[i]!.key, entry.key) === 0) {
        const s = staged[i++]!;
        if (s.value !== null) yield { key: s.key, value: s.value };
        continue;
      }
      yield entry;
    }
    for (; i < staged.length; i++) {
      const s = staged[i]!;
      if (s.value !== null) yield { key: s.key, value: s.value };
    }
  }
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
