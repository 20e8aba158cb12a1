/**
 * Binary heap: O(log n) push, pop, remove and re-key, O(1) peek. With
 * `onMove` the heap reports every slot change, so an item can carry its own
 * index and be removed or re-keyed in place (the mempool's eviction order);
 * without it, callers delete lazily by skipping stale items on pop.
 */
export class Heap<T> {
  private readonly items: T[] = [];
  /** True when `a` must come out before `b`. */
  private readonly before: (a: T, b: T) => boolean;
  private readonly onMove: ((item: T, index: number) => void) | undefined;

  /**
   * `heapOrdered`, when given, is adopted as is: it must already be in heap
   * order for `before` (such as another heap's `toArray()` with the same order).
   */
  constructor(
    before: (a: T, b: T) => boolean,
    onMove?: (item: T, index: number) => void,
    heapOrdered?: T[],
  ) {
    this.before = before;
    this.onMove = onMove;
    if (heapOrdered !== undefined) this.items = heapOrdered;
  }

  /** A copy of the items in heap order: O(n), no comparisons. */
  toArray(): T[] {
    return this.items.slice();
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  at(index: number): T | undefined {
    return this.items[index];
  }

  /** Whether no item must come out before its parent slot's item: O(n), for consistency checks. */
  isOrdered(): boolean {
    for (let i = 1; i < this.items.length; i++) {
      if (this.before(this.items[i]!, this.items[(i - 1) >> 1]!)) return false;
    }
    return true;
  }

  push(item: T): void {
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.removeAt(0);
  }

  /** Removes the item at `index` (as last reported through onMove). */
  removeAt(index: number): T {
    const items = this.items;
    const removed = items[index];
    if (removed === undefined) throw new RangeError(`heap index ${index} out of range`);
    const last = items.pop()!;
    if (index < items.length) {
      items[index] = last;
      this.onMove?.(last, index);
      this.update(index);
    }
    this.onMove?.(removed, -1);
    return removed;
  }

  /** Restores order after the key of the item at `index` changed either way. */
  update(index: number): void {
    if (index > 0 && this.before(this.items[index]!, this.items[(index - 1) >> 1]!)) {
      this.siftUp(index);
    } else {
      this.siftDown(index);
    }
  }

  private siftUp(start: number): void {
    const items = this.items;
    const item = items[start]!;
    let index = start;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex]!;
      if (!this.before(item, parent)) break;
      items[index] = parent;
      this.onMove?.(parent, index);
      index = parentIndex;
    }
    items[index] = item;
    this.onMove?.(item, index);
  }

  private siftDown(start: number): void {
    const items = this.items;
    const length = items.length;
    const item = items[start]!;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && this.before(items[right]!, items[left]!)) child = right;
      if (!this.before(items[child]!, item)) break;
      items[index] = items[child]!;
      this.onMove?.(items[index]!, index);
      index = child;
    }
    items[index] = item;
    this.onMove?.(item, index);
  }
}
