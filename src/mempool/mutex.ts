/**
 * Serializes async critical sections: each `run` starts after the previous one
 * settled, in call order. A failing section does not poison the queue.
 */
export class AsyncMutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(section);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
