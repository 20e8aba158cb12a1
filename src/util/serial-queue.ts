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
