/**
 * Runs async sections one at a time, in call order: each starts after the
 * previous one settled. A failing section rejects its own caller only; the
 * queue goes on. The one mutex of the code base (mempool, importer, audit log,
 * auth service all need exactly this).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(section);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every section queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/**
 * One SerialQueue per key: sections of the same key run one at a time, in
 * call order; different keys do not wait for each other. A key's queue is
 * forgotten once it runs empty, so memory is bounded by the keys in use.
 */
export class KeyedSerialQueue<K> {
  private readonly queues = new Map<K, { queue: SerialQueue; pending: number }>();

  run<T>(key: K, section: () => Promise<T> | T): Promise<T> {
    let entry = this.queues.get(key);
    if (entry === undefined) {
      entry = { queue: new SerialQueue(), pending: 0 };
      this.queues.set(key, entry);
    }
    entry.pending++;
    const slot = entry;
    const result = slot.queue.run(section);
    const release = () => {
      slot.pending--;
      if (slot.pending === 0 && this.queues.get(key) === slot) this.queues.delete(key);
    };
    result.then(release, release);
    return result;
  }

  /** Keys with sections queued or running. */
  get size(): number {
    return this.queues.size;
  }
}
