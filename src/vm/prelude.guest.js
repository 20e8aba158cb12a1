// The contract runtime. It is guest code (it runs inside the isolate), written
// by us and trusted to meter. sandbox.ts runs it once per context: in a warm
// context that then serves many calls of one contract (each __run resets the
// per-call state below and builds the module afresh), or in a fresh context
// per call. It:
// - keeps the host's storage callbacks and the call input in this closure
//   (__run receives them), where contract code cannot reach them;
// - removes every global the subset forbids and wraps every built-in that does
//   size-dependent work so that its gas grows with the size it touches;
// - freezes the intrinsics, so a contract cannot change what the runtime uses;
// - defines the __helpers the instrumentation calls.
// docs/contracts.md documents the gas schedule these charges implement.
(function installPrelude(global) {
  // Replaced with JSON by sandbox.ts when it builds the isolate snapshot.
  const G = __GAS_SCHEDULE__;
  const L = __LIMITS__;
  const F = __FORBIDDEN__;
  // Set per call by __run and held only in this closure.
  let hostStorageGet = null;
  let input = null;
  let running = false;

  const { apply, ownKeys } = Reflect;
  const {
    defineProperty,
    freeze,
    keys: objectKeys,
    getOwnPropertyNames,
    getPrototypeOf,
    getOwnPropertyDescriptor,
  } = Object;
  const hasOwn = Object.prototype.hasOwnProperty;
  const SymbolIterator = Symbol.iterator;
  const FunctionPrototype = Function.prototype;
  const TypeErrorCtor = TypeError;
  const BigIntFn = BigInt;
  const bigintToString = BigInt.prototype.toString;
  const { isArray } = Array;
  const ArrayCtor = Array;
  const MapCtor = Map;
  const SetCtor = Set;
  const ErrorCtor = Error;
  const StringCtor = String;
  const jsonParse = JSON.parse;
  const jsonStringify = JSON.stringify;
  const arrayJoin = Array.prototype.join;
  const arrayPush = Array.prototype.push;
  const stringSlice = String.prototype.slice;
  const stringIndexOf = String.prototype.indexOf;
  const stringIsWellFormed = String.prototype.isWellFormed;
  const engineErrors = [TypeError, RangeError, ReferenceError, SyntaxError, URIError, EvalError];
  const mathMax = Math.max;
  const mathCeil = Math.ceil;

  // ---- gas, depth and the sticky fatal fault ----
  // Unlimited while the prelude sets up; __run sets the call's limit.
  let gasLeft = Number.POSITIVE_INFINITY;
  let gasLimit = 0;
  let depth = 0;
  let fatal = null;

  function Fault(code, message) {
    this.code = code;
    this.message = message;
  }

  function fail(code, message) {
    if (fatal === null) fatal = new Fault(code, message);
    throw fatal;
  }

  function charge(n) {
    if (fatal !== null) throw fatal;
    gasLeft -= n;
    if (gasLeft < 0) {
      gasLeft = 0;
      fail('CONTRACT_OUT_OF_GAS', `out of gas (limit ${gasLimit})`);
    }
  }

  function chars(n) {
    return mathCeil(n / G.charsPerGas);
  }

  function lengthOf(value) {
    if (typeof value === 'string' || isArray(value)) return value.length;
    if (value instanceof MapCtor || value instanceof SetCtor) return value.size;
    return 0;
  }

  function bitsOf(value) {
    const v = value < 0n ? -value : value;
    return v === 0n ? 0 : apply(bigintToString, v, [16]).length * 4;
  }

  function checkString(s) {
    if (s.length > L.maxStringChars) {
      fail(
        'CONTRACT_TOO_LARGE_VALUE',
        `a string of ${s.length} characters, over ${L.maxStringChars}`,
      );
    }
  }

  function checkBigint(b, bits) {
    if (bits > L.maxBigintBits) {
      fail('CONTRACT_TOO_LARGE_VALUE', `a bigint of about ${bits} bits, over ${L.maxBigintBits}`);
    }
    charge(mathCeil(bits / 64) * G.bigintWord);
    return b;
  }

  /** Charges for a value just produced (strings are ropes: producing one copies nothing yet). */
  function sized(r) {
    if (typeof r === 'string') {
      checkString(r);
      charge(chars(r.length));
    } else if (typeof r === 'bigint') {
      checkBigint(r, bitsOf(r));
    }
    return r;
  }

  // ---- the helpers the instrumentation calls ----
  const helpers = {
    __charge: charge,
    __enter() {
      charge(G.call);
      depth++;
      if (depth > L.maxCallDepth)
        fail('CONTRACT_TOO_DEEP', `more than ${L.maxCallDepth} nested calls`);
    },
    __leave() {
      depth--;
    },
    __loop() {
      charge(G.loop);
    },
    __catch(error) {
      if (fatal !== null) throw fatal;
      charge(G.handler);
      // Engine error messages differ between V8 versions: a contract sees only the error's name.
      for (const E of engineErrors) {
        if (error instanceof E) return new ErrorCtor(E.name);
      }
      return error;
    },
    __key(k) {
      charge(G.computedKey);
      const key =
        typeof k === 'number'
          ? k
          : typeof k === 'symbol'
            ? fail('CONTRACT_FORBIDDEN', 'symbol keys')
            : `${k}`;
      if (typeof key === 'string') {
        charge(chars(key.length));
        if (forbiddenKeys.has(key) || apply(stringSlice, key, [0, 2]) === '__') {
          fail('CONTRACT_FORBIDDEN', `the property ${key} is not available to contracts`);
        }
      }
      return key;
    },
    __add(a, b) {
      if (typeof a === 'number' && typeof b === 'number') return a + b;
      return sized(a + b);
    },
    __mul(a, b) {
      if (typeof a === 'bigint' && typeof b === 'bigint')
        return checkBigint(a * b, bitsOf(a) + bitsOf(b));
      return a * b;
    },
    __pow(a, b) {
      if (typeof a === 'bigint' && typeof b === 'bigint') {
        const base = bitsOf(a);
        if (base > 1 && b > BigInt(L.maxBigintBits)) checkBigint(0n, L.maxBigintBits + 1);
        checkBigint(0n, base * Number(b));
        return a ** b;
      }
      if (typeof a === 'number' && typeof b === 'number') return powNumber(a, b);
      return a ** b;
    },
    __shl(a, b) {
      if (typeof a === 'bigint' && typeof b === 'bigint') {
        if (b > BigInt(L.maxBigintBits)) checkBigint(0n, L.maxBigintBits + 1);
        return checkBigint(a << b, bitsOf(a) + mathMax(0, Number(b)));
      }
      return a << b;
    },
    __lt(a, b) {
      compared(a, b);
      return a < b;
    },
    __gt(a, b) {
      compared(a, b);
      return a > b;
    },
    __le(a, b) {
      compared(a, b);
      return a <= b;
    },
    __ge(a, b) {
      compared(a, b);
      return a >= b;
    },
    __eq(a, b) {
      compared(a, b);
      // biome-ignore lint/suspicious/noDoubleEquals: the contract wrote ==, so it gets ==
      return a == b;
    },
    __ne(a, b) {
      compared(a, b);
      // biome-ignore lint/suspicious/noDoubleEquals: the contract wrote !=, so it gets !=
      return a != b;
    },
    __seq(a, b) {
      compared(a, b);
      return a === b;
    },
    __sne(a, b) {
      compared(a, b);
      return a !== b;
    },
    __str(s) {
      return sized(s);
    },
    __spread(x) {
      // A string spreads into a new one-character string per character
      // (two-byte ones are not shared): perSlowElement.
      const per = typeof x === 'string' ? G.perSlowElement : G.perElement;
      charge(G.builtin + per * lengthOf(x));
      return x;
    },
    __args(x) {
      const n = lengthOf(x);
      if (n > L.maxCallArgs)
        fail('CONTRACT_TOO_LARGE_VALUE', `${n} spread arguments, over ${L.maxCallArgs}`);
      charge(G.builtin + G.perElement * n);
      return x;
    },
    __forIn(x) {
      let n = 0;
      for (let o = x; o !== null && o !== undefined; o = getPrototypeOf(o)) {
        charge(G.builtin);
        n += objectKeys(o).length;
      }
      charge(G.perEntry * n);
      return x;
    },
    __spreadObj(x) {
      charge(G.builtin + (x === null || x === undefined ? 0 : G.perEntry * objectKeys(x).length));
      return x;
    },
  };

  // Comparing two long strings is O(length): charge for the shorter one.
  function compared(a, b) {
    if (typeof a === 'string' && typeof b === 'string') charge(chars(Math.min(a.length, b.length)));
    return 0;
  }

  // Exponentiation by squaring: IEEE multiplication is exact to the spec, Math.pow is not.
  function powNumber(a, b) {
    if (!Number.isInteger(b) || b > 1e6 || b < -1e6) {
      fail('CONTRACT_FORBIDDEN', 'number exponents must be integers within +-1e6');
    }
    let result = 1;
    let base = a;
    let e = b < 0 ? -b : b;
    while (e > 0) {
      charge(1);
      if (e % 2 === 1) result *= base;
      base *= base;
      e = Math.floor(e / 2);
    }
    return b < 0 ? 1 / result : result;
  }

  const forbiddenKeys = new SetCtor(F.properties);

  // ---- built-ins: remove what the subset forbids ----
  for (const name of F.globals) delete global[name];
  for (const name of F.math) delete Math[name];
  for (const name of [
    'getPrototypeOf',
    'setPrototypeOf',
    'defineProperty',
    'defineProperties',
    'getOwnPropertyDescriptor',
    'getOwnPropertyDescriptors',
    'getOwnPropertySymbols',
  ]) {
    delete Object[name];
  }
  const protoRemovals = [
    [
      Object.prototype,
      [
        '__defineGetter__',
        '__defineSetter__',
        '__lookupGetter__',
        '__lookupSetter__',
        'toLocaleString',
      ],
    ],
    [Array.prototype, ['flat', 'flatMap', 'toLocaleString']],
    [
      String.prototype,
      [
        'localeCompare',
        'normalize',
        'toLocaleLowerCase',
        'toLocaleUpperCase',
        'toLowerCase',
        'toUpperCase',
        'match',
        'matchAll',
        'search',
        'anchor',
        'big',
        'blink',
        'bold',
        'fixed',
        'fontcolor',
        'fontsize',
        'italics',
        'link',
        'small',
        'strike',
        'sub',
        'sup',
      ],
    ],
    [Number.prototype, ['toLocaleString']],
    [BigInt.prototype, ['toLocaleString']],
    // Later than ES2022, and each copies a whole collection in one unmetered
    // step (s.union(s), m.values().toArray()), or drains an iterator lazily.
    [
      Set.prototype,
      [
        'union',
        'intersection',
        'difference',
        'symmetricDifference',
        'isSubsetOf',
        'isSupersetOf',
        'isDisjointFrom',
      ],
    ],
    [
      getPrototypeOf(getPrototypeOf([][SymbolIterator]())),
      [
        'map',
        'filter',
        'take',
        'drop',
        'flatMap',
        'reduce',
        'toArray',
        'forEach',
        'some',
        'every',
        'find',
      ],
    ],
    [Array, ['fromAsync']],
    [JSON, ['rawJSON', 'isRawJSON']],
  ];
  for (const [proto, names] of protoRemovals) for (const name of names) delete proto[name];
  delete String.raw;
  delete Error.captureStackTrace;
  delete Error.prepareStackTrace;
  Error.stackTraceLimit = 0;
  // The way from any function to an unmetered `Function`: cut it.
  defineProperty(FunctionPrototype, 'constructor', { value: undefined });

  // ---- built-ins: charge by size ----
  function wrap(owner, name, cost) {
    const original = owner[name];
    if (typeof original !== 'function') return;
    const wrapped = {
      [name](...args) {
        charge(G.builtin + cost(this, args));
        return apply(original, this, args);
      },
    }[name];
    defineProperty(owner, name, {
      value: wrapped,
      writable: false,
      configurable: false,
      enumerable: false,
    });
  }
  const perThis = (self) => G.perElement * lengthOf(self);
  // The runtime is sloppy-mode code, so a string method's `this` arrives as a
  // String object: typeof is 'object', and reading it as one charged nothing
  // for s.indexOf of a 1 Mi-character string.
  const perThisChars = (self) =>
    typeof self === 'string' || self instanceof StringCtor
      ? chars(`${self}`.length)
      : perThis(self);
  const perArgs = (_self, args) => G.perElement * args.length;
  const perResultLength = (n) => {
    if (!(n >= 0 && n <= L.maxStringChars)) fail('CONTRACT_TOO_LARGE_VALUE', `a length of ${n}`);
    return n;
  };

  for (const name of [
    'at',
    'copyWithin',
    'every',
    'filter',
    'find',
    'findIndex',
    'findLast',
    'findLastIndex',
    'forEach',
    'includes',
    'indexOf',
    'lastIndexOf',
    'map',
    'reduce',
    'reduceRight',
    'reverse',
    'shift',
    'slice',
    'some',
    'splice',
    'toReversed',
    'toSpliced',
    'with',
  ]) {
    wrap(Array.prototype, name, perThis);
  }
  wrap(Array.prototype, 'concat', (self, args) => {
    let n = lengthOf(self);
    for (const a of args) n += isArray(a) ? a.length : 1;
    return G.perElement * n;
  });
  const perThisEntry = (self) => G.perEntry * lengthOf(self);
  // Iterators are charged for everything they can yield when they are made
  // (spreading one cannot know its length). Each step goes through the
  // generic iterator protocol (a result object per step, and entries() a new
  // pair), several times the work of copying an array: perEntry.
  wrap(Array.prototype, 'keys', perThisEntry);
  wrap(Array.prototype, 'values', perThisEntry);
  wrap(Array.prototype, 'entries', perThisEntry);
  wrap(Array.prototype, 'push', perArgs);
  wrap(Array.prototype, 'pop', () => 0);
  wrap(Array.prototype, 'unshift', (self, args) => perThis(self) + args.length);
  wrap(Array.prototype, 'fill', perThis);

  // join and toString convert every element first (charged, recursion counted), then join.
  function join(separator) {
    // Each element is converted to text (a number through dtoa): perSlowElement.
    charge(G.builtin + G.perSlowElement * lengthOf(this));
    depth++;
    try {
      if (depth > L.maxCallDepth) fail('CONTRACT_TOO_DEEP', 'arrays nested too deeply to join');
      const sep = separator === undefined ? ',' : `${separator}`;
      const parts = [];
      let total = 0;
      for (let i = 0; i < this.length; i++) {
        const item = this[i];
        const text = item === null || item === undefined ? '' : `${item}`;
        total += text.length + sep.length;
        if (total > L.maxStringChars) fail('CONTRACT_TOO_LARGE_VALUE', 'joined string too long');
        apply(arrayPush, parts, [text]);
      }
      charge(chars(total));
      return apply(arrayJoin, parts, [sep]);
    } finally {
      depth--;
    }
  }
  defineProperty(Array.prototype, 'join', { value: join, writable: false, configurable: false });
  defineProperty(Array.prototype, 'toString', {
    // biome-ignore lint/suspicious/noShadowRestrictedNames: it is Array.prototype.toString
    value: function toString() {
      return apply(join, this, []);
    },
    writable: false,
    configurable: false,
  });

  // A merge sort: the order of elements under an inconsistent comparator is
  // implementation-defined for the built-in sort; this one is the same everywhere.
  function defaultCompare(a, b) {
    if (a === undefined) return b === undefined ? 0 : 1;
    if (b === undefined) return -1;
    const x = `${a}`;
    const y = `${b}`;
    charge(chars(Math.min(x.length, y.length)));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  function mergeSort(items, compare) {
    const n = items.length;
    let from = items;
    let to = new ArrayCtor(n);
    for (let width = 1; width < n; width *= 2) {
      charge(G.perElement * n);
      for (let lo = 0; lo < n; lo += 2 * width) {
        const mid = Math.min(lo + width, n);
        const hi = Math.min(lo + 2 * width, n);
        let i = lo;
        let j = mid;
        let k = lo;
        while (i < mid && j < hi) {
          const c = Number(compare(from[j], from[i]));
          to[k++] = c < 0 ? from[j++] : from[i++];
        }
        while (i < mid) to[k++] = from[i++];
        while (j < hi) to[k++] = from[j++];
      }
      const t = from;
      from = to;
      to = t;
    }
    return from;
  }
  function sortInPlace(self, compare) {
    if (compare !== undefined && typeof compare !== 'function')
      fail('CONTRACT_FORBIDDEN', 'sort comparator is not a function');
    charge(G.builtin + perThis(self));
    const sorted = mergeSort(apply(Array.prototype.slice, self, []), compare ?? defaultCompare);
    for (let i = 0; i < sorted.length; i++) self[i] = sorted[i];
    return self;
  }
  defineProperty(Array.prototype, 'sort', {
    value: function sort(compare) {
      return sortInPlace(this, compare);
    },
    writable: false,
    configurable: false,
  });
  defineProperty(Array.prototype, 'toSorted', {
    value: function toSorted(compare) {
      return sortInPlace(apply(Array.prototype.slice, this, []), compare);
    },
    writable: false,
    configurable: false,
  });

  for (const name of ['at', 'charAt', 'charCodeAt', 'codePointAt', 'toString', 'valueOf'])
    wrap(String.prototype, name, () => 0);
  for (const name of [
    'endsWith',
    'includes',
    'indexOf',
    'lastIndexOf',
    'startsWith',
    'trim',
    'trimStart',
    'trimEnd',
    'isWellFormed',
    'toWellFormed',
    'slice',
    'substring',
    'substr',
  ]) {
    wrap(String.prototype, name, perThisChars);
  }
  wrap(String.prototype, 'split', (self, args) => {
    if (args[0] !== undefined && typeof args[0] !== 'string')
      fail('CONTRACT_FORBIDDEN', 'split takes a string separator');
    return G.perElement * lengthOf(`${self}`);
  });
  wrap(String.prototype, 'repeat', (self, args) =>
    chars(perResultLength(`${self}`.length * Number(args[0]))),
  );
  wrap(String.prototype, 'padStart', (_self, args) => chars(perResultLength(Number(args[0]))));
  wrap(String.prototype, 'padEnd', (_self, args) => chars(perResultLength(Number(args[0]))));
  wrap(String.prototype, 'concat', (self, args) => {
    let n = `${self}`.length;
    for (const a of args) n += `${a}`.length;
    return chars(perResultLength(n));
  });
  for (const name of ['replace', 'replaceAll']) {
    wrap(String.prototype, name, (self, args) => {
      if (typeof args[0] !== 'string') fail('CONTRACT_FORBIDDEN', `${name} takes a string pattern`);
      const text = `${self}`;
      const replacement = typeof args[1] === 'string' ? args[1].length : 1;
      const cost = chars(perResultLength(text.length * (1 + replacement)));
      if (name === 'replace') return cost;
      // V8 spends about a microsecond per match: counted (and charged) first.
      charge(cost);
      const pattern = args[0];
      if (pattern.length === 0) return G.perMatch * (text.length + 1);
      for (
        let i = apply(stringIndexOf, text, [pattern]);
        i !== -1;
        i = apply(stringIndexOf, text, [pattern, i + pattern.length])
      ) {
        charge(G.perMatch);
      }
      return 0;
    });
  }
  wrap(String, 'fromCharCode', perArgs);
  wrap(String, 'fromCodePoint', perArgs);
  // String(x) makes a string; passed to map (a.map(String)) it made one per
  // element for the 1 gas map charges, unlike a template literal, which pays.
  const StringFn = String;
  function SafeString(...args) {
    if (new.target) throw new TypeErrorCtor('String is not a constructor');
    charge(G.builtin);
    return sized(apply(StringFn, undefined, args));
  }
  for (const name of ['fromCharCode', 'fromCodePoint']) SafeString[name] = StringFn[name];
  defineProperty(SafeString, 'prototype', { value: StringFn.prototype });
  defineProperty(StringFn.prototype, 'constructor', { value: SafeString });
  global.String = SafeString;
  wrap(global, 'parseInt', (_self, args) => chars(lengthOf(args[0])));
  wrap(global, 'parseFloat', (_self, args) => chars(lengthOf(args[0])));
  wrap(Number.prototype, 'toString', (self, args) => {
    if (args[0] !== undefined && Number(args[0]) !== 10 && !Number.isInteger(Number(self))) {
      fail('CONTRACT_FORBIDDEN', 'non-integers print only in base 10');
    }
    return 0;
  });

  // A key string per index key, a pair per entry, a property per key copied.
  wrap(
    Object,
    'keys',
    (_self, args) => G.perEntry * (args[0] == null ? 0 : objectKeys(args[0]).length),
  );
  wrap(
    Object,
    'values',
    (_self, args) => G.perElement * (args[0] == null ? 0 : objectKeys(args[0]).length),
  );
  wrap(
    Object,
    'entries',
    (_self, args) => G.perEntry * (args[0] == null ? 0 : objectKeys(args[0]).length),
  );
  wrap(
    Object,
    'getOwnPropertyNames',
    (_self, args) => G.perEntry * (args[0] == null ? 0 : getOwnPropertyNames(args[0]).length),
  );
  wrap(Object, 'assign', (_self, args) => {
    let n = 0;
    for (const a of args) n += a == null ? 0 : objectKeys(a).length;
    return G.perEntry * n;
  });
  wrap(Object, 'fromEntries', (_self, args) => G.perEntry * lengthOf(args[0]));
  wrap(
    Object,
    'freeze',
    (_self, args) => G.perElement * (args[0] == null ? 0 : objectKeys(args[0]).length),
  );
  wrap(Object, 'groupBy', (_self, args) => G.perEntry * lengthOf(args[0]));
  wrap(Map, 'groupBy', (_self, args) => G.perEntry * lengthOf(args[0]));
  wrap(Array, 'from', (_self, args) => {
    const source = args[0];
    const n =
      source === null || source === undefined
        ? 0
        : typeof source.length === 'number'
          ? source.length
          : lengthOf(source);
    if (!(n >= 0 && n <= L.maxStringChars))
      fail('CONTRACT_TOO_LARGE_VALUE', `an array of ${n} elements`);
    return G.perElement * n;
  });
  wrap(Array, 'of', perArgs);
  // A new entry (and now and then a rehash of the table).
  wrap(Map.prototype, 'set', () => G.perEntry);
  wrap(Set.prototype, 'add', () => G.perEntry);
  for (const proto of [Map.prototype, Set.prototype]) {
    wrap(proto, 'forEach', perThis);
    wrap(proto, 'clear', perThis);
    // Iterators: see Array.prototype.keys above.
    wrap(proto, 'keys', perThisEntry);
    wrap(proto, 'values', perThisEntry);
    wrap(proto, 'entries', perThisEntry);
    wrap(proto, SymbolIterator, perThisEntry);
  }
  wrap(FunctionPrototype, 'apply', (_self, args) => {
    const n = lengthOf(args[1]);
    if (n > L.maxCallArgs)
      fail('CONTRACT_TOO_LARGE_VALUE', `${n} arguments, over ${L.maxCallArgs}`);
    return G.perElement * n;
  });
  wrap(JSON, 'parse', (_self, args) => {
    if (args.length > 1) fail('CONTRACT_FORBIDDEN', 'JSON.parse takes no reviver');
    // Builds an object or array every few characters: twice the character rate.
    return 2 * chars(lengthOf(`${args[0]}`));
  });
  function SafeBigInt(v) {
    if (new.target) throw new TypeErrorCtor('BigInt is not a constructor');
    if (typeof v === 'string') {
      if (v.length > L.maxBigintBits / 3 + 2) checkBigint(0n, L.maxBigintBits + 1);
      charge(chars(v.length));
    }
    const r = BigIntFn(v);
    return checkBigint(r, bitsOf(r));
  }
  // BigInt.asUintN(1e8, -1n) made a 100,000,000-bit bigint for 12 gas.
  for (const name of ['asIntN', 'asUintN']) {
    const original = BigIntFn[name];
    SafeBigInt[name] = {
      [name](bits, value) {
        // Converted once: a valueOf could answer differently the second time.
        const n = Number(bits);
        if (!(n >= 0 && n <= L.maxBigintBits)) checkBigint(0n, L.maxBigintBits + 1);
        charge(G.builtin);
        const r = original(n, value);
        return checkBigint(r, bitsOf(r));
      },
    }[name];
  }
  defineProperty(SafeBigInt, 'prototype', { value: BigIntFn.prototype });
  global.BigInt = SafeBigInt;

  // new Array(n), Map/Set from an iterable: charged before anything is allocated.
  function SafeArray(...args) {
    const n = args.length === 1 && typeof args[0] === 'number' ? args[0] : args.length;
    if (!(n >= 0 && n <= L.maxStringChars))
      fail('CONTRACT_TOO_LARGE_VALUE', `an array of ${n} elements`);
    charge(G.builtin + G.perElement * n);
    return apply(ArrayCtor, undefined, args);
  }
  for (const name of ['isArray', 'from', 'of']) SafeArray[name] = ArrayCtor[name];
  defineProperty(SafeArray, 'prototype', { value: ArrayCtor.prototype });
  defineProperty(ArrayCtor.prototype, 'constructor', { value: SafeArray });
  global.Array = SafeArray;
  function sizedCollection(Ctor) {
    function Safe(iterable) {
      if (!new.target) throw new TypeErrorCtor(`${Ctor.name} needs new`);
      charge(G.builtin + G.perEntry * lengthOf(iterable));
      return iterable === undefined ? new Ctor() : new Ctor(iterable);
    }
    defineProperty(Safe, 'prototype', { value: Ctor.prototype });
    defineProperty(Ctor.prototype, 'constructor', { value: Safe });
    return Safe;
  }
  global.Map = sizedCollection(MapCtor);
  global.Set = sizedCollection(SetCtor);
  // JSON.stringify walks the value with a depth bound and a charge per node.
  defineProperty(JSON, 'stringify', {
    value: function stringify(value, replacer, space) {
      if (replacer !== undefined || space !== undefined)
        fail('CONTRACT_FORBIDDEN', 'JSON.stringify takes one argument');
      return serialize(value, 0);
    },
    writable: false,
    configurable: false,
  });
  function serialize(value, level) {
    charge(G.perElement);
    if (level > L.maxValueDepth)
      fail('CONTRACT_TOO_DEEP', `a value nested deeper than ${L.maxValueDepth}`);
    if (value !== null && typeof value === 'object' && typeof value.toJSON === 'function')
      value = value.toJSON();
    switch (typeof value) {
      case 'string':
        return sized(jsonStringify(value));
      case 'number':
        return Number.isFinite(value) ? jsonStringify(value) : 'null';
      case 'boolean':
        return value ? 'true' : 'false';
      case 'bigint':
        throw new TypeErrorCtor('BigInt value can not be serialized in JSON');
      case 'object': {
        if (value === null) return 'null';
        const parts = [];
        if (isArray(value)) {
          // Charged by length before the walk: a sparse array (a[1e8] = 1) has
          // holes that print as null but are no nodes, and looking each up in
          // its dictionary is slow.
          if (value.length > L.maxStringChars)
            fail('CONTRACT_TOO_LARGE_VALUE', `an array of ${value.length} elements`);
          charge(G.perEntry * value.length);
          for (let i = 0; i < value.length; i++) {
            const item = value[i];
            const text =
              item === undefined || typeof item === 'function'
                ? 'null'
                : serialize(item, level + 1);
            apply(arrayPush, parts, [text]);
          }
          return sized(`[${apply(arrayJoin, parts, [','])}]`);
        }
        for (const key of objectKeys(value)) {
          const item = value[key];
          if (item === undefined || typeof item === 'function') continue;
          apply(arrayPush, parts, [`${jsonStringify(key)}:${serialize(item, level + 1)}`]);
        }
        return sized(`{${apply(arrayJoin, parts, [','])}}`);
      }
      default:
        return undefined;
    }
  }

  // ---- freeze what the runtime relies on ----
  const frozen = new SetCtor();
  function deepFreeze(root) {
    const stack = [root];
    while (stack.length > 0) {
      const o = stack.pop();
      if (o === null || (typeof o !== 'object' && typeof o !== 'function') || frozen.has(o))
        continue;
      frozen.add(o);
      freeze(o);
      // Symbol keys (e.g. Array.prototype[Symbol.unscopables]) and accessor
      // functions too: a warm context must keep no mutable intrinsic.
      for (const name of ownKeys(o)) {
        const d = getOwnPropertyDescriptor(o, name);
        if (d === undefined) continue;
        if ('value' in d) apply(arrayPush, stack, [d.value]);
        else apply(arrayPush, stack, [d.get, d.set]);
      }
      apply(arrayPush, stack, [getPrototypeOf(o)]);
    }
  }
  const iteratorPrototypes = [
    getPrototypeOf([][SymbolIterator]()),
    getPrototypeOf(''[SymbolIterator]()),
    getPrototypeOf(new MapCtor()[SymbolIterator]()),
    getPrototypeOf(new SetCtor()[SymbolIterator]()),
  ];
  for (const name of getOwnPropertyNames(global)) {
    if (name === 'Math' || name === 'JSON' || /^[A-Z]/.test(name)) deepFreeze(global[name]);
  }
  for (const proto of iteratorPrototypes) deepFreeze(proto);
  deepFreeze(FunctionPrototype);
  deepFreeze(Object.prototype);

  // ---- storage, events and the call ----
  // Per call: __run clears them before the contract runs.
  let writes = new MapCtor();
  // What this call has read from the host, by key: a second read is warm.
  let reads = new MapCtor();
  let events = [];
  let readOnly = false;

  function decode(text) {
    return text === null ? null : revive(jsonParse(text));
  }
  function revive(v) {
    if (v === null || typeof v !== 'object') return v;
    if (isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = revive(v[i]);
      return v;
    }
    const ks = objectKeys(v);
    if (ks.length === 1 && ks[0] === '$bigint') return BigIntFn(v.$bigint);
    for (const k of ks) v[k] = revive(v[k]);
    return v;
  }
  // The canonical value form of values.ts: bigints tagged, non-finite numbers refused.
  function encode(value, what) {
    function plain(v, level) {
      charge(G.perElement);
      if (level > L.maxValueDepth)
        fail('CONTRACT_BAD_VALUE', `${what} nested deeper than ${L.maxValueDepth}`);
      switch (typeof v) {
        case 'string':
        case 'boolean':
          return v;
        case 'number':
          if (!Number.isFinite(v)) fail('CONTRACT_BAD_VALUE', `${what} holds a non-finite number`);
          return v;
        case 'bigint':
          return { $bigint: apply(bigintToString, v, []) };
        case 'object': {
          if (v === null) return null;
          if (isArray(v)) {
            const out = [];
            for (let i = 0; i < v.length; i++) apply(arrayPush, out, [plain(v[i], level + 1)]);
            return out;
          }
          const proto = getPrototypeOf(v);
          if (proto !== Object.prototype && proto !== null)
            fail('CONTRACT_BAD_VALUE', `${what} holds a non-plain object`);
          const out = {};
          for (const k of objectKeys(v)) {
            if (k === '$bigint' || k === '__proto__')
              fail('CONTRACT_BAD_VALUE', `${what} uses the reserved key ${k}`);
            defineProperty(out, k, {
              value: plain(v[k], level + 1),
              enumerable: true,
              writable: true,
              configurable: true,
            });
          }
          return out;
        }
        default:
          return fail('CONTRACT_BAD_VALUE', `${what} holds a ${typeof v}`);
      }
    }
    const text = jsonStringify(plain(value, 0));
    if (text.length > L.maxValueBytes)
      fail('CONTRACT_BAD_VALUE', `${what} is larger than ${L.maxValueBytes} bytes`);
    charge(chars(text.length));
    return text;
  }
  function checkKey(key, what) {
    if (typeof key !== 'string' || key.length === 0 || key.length > L.maxKeyChars) {
      fail('CONTRACT_BAD_VALUE', `${what} must be a string of 1 to ${L.maxKeyChars} characters`);
    }
    // A lone surrogate has no UTF-8 form: two such keys would share one state key.
    if (!apply(stringIsWellFormed, key, []))
      fail('CONTRACT_BAD_VALUE', `${what} is not valid Unicode`);
  }
  const storage = freeze({
    get(key) {
      checkKey(key, 'a storage key');
      // Warm: no round trip, but the value is decoded again, so it pays its size.
      const warm = writes.has(key) ? writes.get(key) : reads.has(key) ? reads.get(key) : undefined;
      if (warm !== undefined) {
        charge(G.storageRead + chars(key.length + (warm === null ? 0 : warm.length)));
        return decode(warm);
      }
      charge(G.storageColdRead + chars(key.length));
      const text = hostStorageGet(key);
      if (text !== null) charge(chars(text.length));
      reads.set(key, text);
      return decode(text);
    },
    has(key) {
      return storage.get(key) !== null;
    },
    set(key, value) {
      checkKey(key, 'a storage key');
      if (readOnly) fail('CONTRACT_READ_ONLY', 'a query cannot write storage');
      const text = value === null || value === undefined ? null : encode(value, 'a storage value');
      charge(text === null ? G.storageDelete : G.storageWrite + chars(key.length + text.length));
      writes.set(key, text);
    },
    delete(key) {
      storage.set(key, null);
    },
  });
  function emit(name, data) {
    checkKey(name, 'an event name');
    const text = encode(data === undefined ? null : data, 'event data');
    charge(G.event + chars(name.length + text.length));
    apply(arrayPush, events, [[name, text]]);
  }

  let factory = null;
  const definitions = {
    __define(f) {
      if (factory !== null) fail('CONTRACT_FORBIDDEN', 'a contract defines itself once');
      factory = f;
    },
    __run(inputJson, storageGet, storageGetAsync) {
      // Not fail(): the sticky fault belongs to the call in progress.
      if (running) throw new Fault('CONTRACT_FORBIDDEN', 'a context runs one call at a time');
      running = true;
      // Everything a call may leave behind is reset here; the module itself is
      // rebuilt by factory(), so a contract's top-level bindings start afresh.
      input = jsonParse(inputJson);
      hostStorageGet =
        storageGetAsync === undefined
          ? storageGet
          : (key) => storageGetAsync.applySyncPromise(undefined, [key]);
      fatal = null;
      depth = 0;
      // New objects rather than clear(): the built-ins are wrapped to charge gas.
      writes = new MapCtor();
      reads = new MapCtor();
      events = [];
      gasLimit = input.gasLimit;
      gasLeft = gasLimit;
      readOnly = input.readOnly;
      try {
        return runCall();
      } finally {
        hostStorageGet = null;
        reads = new MapCtor();
        input = null;
        gasLeft = 0;
        running = false;
      }
    },
  };
  function runCall() {
    let outcome;
    try {
      const exported = factory();
      const method = input.method;
      if (!apply(hasOwn, exported, [method]) || typeof exported[method] !== 'function') {
        fail('CONTRACT_NO_METHOD', `the contract exports no method ${method}`);
      }
      const ctx = freeze({ ...revive(jsonParse(input.context)), storage, emit });
      const args = revive(jsonParse(input.args));
      const value = apply(exported[method], undefined, [ctx, ...args]);
      outcome = {
        ok: true,
        value: encode(value === undefined ? null : value, 'the return value'),
      };
    } catch (thrown) {
      outcome = { ok: false, ...describe(thrown) };
    }
    const gasUsed = gasLimit - gasLeft;
    if (!outcome.ok) return jsonStringify({ ...outcome, gasUsed });
    const writeList = [];
    for (const entry of writes) apply(arrayPush, writeList, [entry]);
    return jsonStringify({ ...outcome, gasUsed, writes: writeList, events });
  }
  function describe(thrown) {
    if (fatal !== null) return { code: fatal.code, message: fatal.message };
    if (thrown instanceof Fault) return { code: thrown.code, message: thrown.message };
    for (const E of engineErrors) {
      if (thrown instanceof E) return { code: 'CONTRACT_REVERTED', message: E.name };
    }
    if (thrown instanceof ErrorCtor) {
      const message =
        typeof thrown.message === 'string' ? apply(stringSlice, thrown.message, [0, 256]) : '';
      return { code: 'CONTRACT_REVERTED', message };
    }
    if (typeof thrown === 'string')
      return { code: 'CONTRACT_REVERTED', message: apply(stringSlice, thrown, [0, 256]) };
    return { code: 'CONTRACT_REVERTED', message: 'the contract threw a non-error value' };
  }

  for (const [name, value] of [...Object.entries(helpers), ...Object.entries(definitions)]) {
    defineProperty(global, name, {
      value,
      writable: false,
      configurable: false,
      enumerable: false,
    });
  }
  // A warm context serves many calls: nothing a contract can reach may keep a
  // change from one call to the next. Everything reachable from the global
  // object (lower-case functions and the helpers included) and the ctx members
  // shared by every call are frozen, deeply.
  deepFreeze(storage);
  deepFreeze(emit);
  deepFreeze(global);
})(globalThis);
