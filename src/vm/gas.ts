/**
 * The gas schedule (docs/contracts.md). Every figure is part of consensus:
 * changing one changes which calls fit in a block, so it needs a new protocol
 * version. Costs are chosen so that (a) every loop iteration and call costs
 * something, and (b) no contract can hold more than about
 * MAX_CALL_GAS * MAX_BYTES_PER_GAS bytes of heap, far below the isolate's
 * memory limit (the safety net), so gas always runs out first.
 */
export const Gas = {
  /** Every function entry. */
  call: 10,
  /** Every loop iteration (charged at the start of the body, so `continue` pays too). */
  loop: 5,
  /** Entering a catch or finally block. */
  handler: 5,
  /** Every computed property access (`o[k]`), which also checks the key. */
  computedKey: 1,
  /** An object or array literal, plus per property or element. */
  literal: 10,
  literalItem: 2,
  /** Built-in calls: a base, plus per element or per 4 characters they touch or produce. */
  builtin: 2,
  perElement: 1,
  /**
   * Per element of a built-in that makes an object, a pair, a property, a
   * collection entry or a key string for each element (Object.entries, assign,
   * {...x}, new Map/Set, Object.keys), and iterators (keys, values, entries of
   * arrays, Maps and Sets: a result object per step): each holds tens of
   * bytes, not a pointer's 8, so at 1 gas such built-ins filled the heap (over
   * 128 MB) and ran for seconds on 2,000,000 gas.
   */
  perEntry: 16,
  /**
   * Per element of a built-in that converts each element (join: numbers
   * through dtoa) or makes a string per character ([...s]).
   */
  perSlowElement: 4,
  /** Per match of replaceAll (V8 takes about a microsecond each). */
  perMatch: 16,
  charsPerGas: 4,
  /** Per 64 bits of a bigint produced by +, *, ** or <<. */
  bigintWord: 1,
  /**
   * Storage: a read, a write and a delete, plus per 4 characters of key and
   * value. The first read of a key in a call goes to the state store (a
   * guest-host round trip and a database lookup: 40 to 300 us measured, the
   * cost of thousands of loop iterations), later reads of it in the same call
   * and reads of the call's own writes do not. At 200 gas for every read, a
   * block of reads of fresh keys took 30 s to validate. A write (or delete)
   * of a successful call is committed to the authenticated tree with undo
   * data: 1,900 of them added about 0.5 s of CPU to a block at 1,000 gas.
   */
  storageColdRead: 4_000,
  storageRead: 200,
  storageWrite: 5_000,
  storageDelete: 2_500,
  /** An event, plus per 4 characters of its name and data. */
  event: 100,
  /** Deploying, per byte of source (charged by the chain, not the sandbox). */
  deployBase: 10_000,
  deployPerByte: 10,
} as const;

export const VmLimits = {
  /** Largest contract source accepted at deploy. */
  maxCodeBytes: 64 * 1024,
  /** Deepest bracket nesting accepted at deploy (keeps parsers and frames small; see nesting.ts). */
  maxNesting: 32,
  /** Most operators and keywords along one statement path (see nesting.ts). */
  maxRecursionTokens: 256,
  /** Most variables a single function may declare (bounds frame size). */
  maxLocals: 256,
  /** Gas one call may be given. */
  maxCallGas: 2_000_000,
  /** Nested contract function calls (far below V8's own stack limit for the frames above). */
  maxCallDepth: 64,
  /** Longest string a contract may produce. */
  maxStringChars: 1 << 20,
  /** Largest bigint a contract may produce. */
  maxBigintBits: 4096,
  /** Most elements spread into one call's arguments (V8 puts them on the stack). */
  maxCallArgs: 1024,
  /** Largest encoded argument list, return value, storage value or event. */
  maxValueBytes: 16 * 1024,
  /** Deepest nesting of a contract value. */
  maxValueDepth: 32,
  /** Longest storage key and event name. */
  maxKeyChars: 128,
  /** Safety net only: isolate heap limit in MB and wall-clock limit per call. */
  isolateMemoryMb: 128,
  callTimeoutMs: 2_000,
} as const;
