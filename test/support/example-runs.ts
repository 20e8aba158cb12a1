/**
 * Generated call sequences over the four example contracts (init, their
 * methods, and `spend` with generated signers, outputs and heights), run
 * through a sandbox; one fingerprint per call plus the final storage. The
 * sequences come from fast-check with a given seed, so a separate process
 * (run as a script: `node example-runs.ts SEED`) generates the same ones and
 * its output can be compared byte for byte (test/contracts/examples-property.test.ts).
 */
import fc from 'fast-check';
import { ContractSandbox, type ContractValue } from '../../src/vm/index.ts';
import {
  callOnce,
  exampleContract,
  fingerprint,
  MemoryContractStorage,
} from './contract-fixture.ts';

const keys = [1, 2, 3, 4].map((n) => `02${n.toString(16).padStart(64, '0')}`);
const address = (k: string) => `utxtest1${k.slice(-8)}`;
const lockHash = (n: number) => n.toString(16).padStart(64, '0');
const CONTRACT = 'c0ffee';

interface Op {
  readonly method: string;
  readonly caller: number;
  readonly height: number;
  readonly signers: readonly number[];
  readonly outputs: readonly { amount: bigint; toContract: boolean; lock: number }[];
  readonly arg: number;
}

const INIT: Record<string, ContractValue[]> = {
  'multisig.js': [keys.slice(0, 3), 2],
  'escrow.js': [
    {
      buyer: keys[0]!,
      seller: keys[1]!,
      arbiter: keys[2]!,
      buyerLock: lockHash(1),
      sellerLock: lockHash(2),
    },
  ],
  'vault.js': [
    { key: keys[0]!, address: address(keys[0]!) },
    { key: keys[1]!, address: address(keys[1]!) },
    5,
  ],
  'vesting.js': [keys[0]!, 1000n, 100, 100],
};

const METHODS: Record<string, string[]> = {
  'multisig.js': ['spend', 'init'],
  'escrow.js': ['spend', 'init'],
  'vault.js': ['spend', 'announce', 'cancel', 'init'],
  'vesting.js': ['spend', 'vested', 'init'],
};

function opArbitrary(contract: string): fc.Arbitrary<Op> {
  return fc.record({
    method: fc.constantFrom(...METHODS[contract]!),
    caller: fc.nat(3),
    height: fc.nat(300),
    signers: fc.uniqueArray(fc.nat(3), { maxLength: 4 }),
    outputs: fc.array(
      fc.record({
        amount: fc.bigInt({ min: 1n, max: 2000n }),
        toContract: fc.boolean(),
        lock: fc.integer({ min: 1, max: 3 }),
      }),
      { maxLength: 3 },
    ),
    arg: fc.nat(300),
  });
}

function spendTx(op: Op): ContractValue {
  return {
    txid: 'ab'.repeat(32),
    inputIndex: 0,
    inputs: [
      { txid: 'cd'.repeat(32), vout: 0, amount: 5000n, lock: { type: 'contract', hash: CONTRACT } },
    ],
    outputs: op.outputs.map((o) => ({
      amount: o.amount,
      lock: o.toContract
        ? { type: 'contract', hash: CONTRACT }
        : { type: 'pubkey', hash: lockHash(o.lock) },
    })),
    lockTime: 0,
    signers: op.signers.map((i) => keys[i]!),
  };
}

/** The fingerprints of `count` generated sequences per example contract. */
export function exampleRuns(sandbox: ContractSandbox, seed: number, count = 8): string[] {
  const lines: string[] = [];
  for (const name of Object.keys(INIT)) {
    const contract = exampleContract(name);
    const sequences = fc.sample(fc.array(opArbitrary(name), { minLength: 1, maxLength: 10 }), {
      seed,
      numRuns: count,
    });
    for (const ops of sequences) {
      const storage = new MemoryContractStorage();
      const init = callOnce(sandbox, contract, 'init', INIT[name]!, {
        storage,
        context: { caller: address(keys[0]!), contract: CONTRACT },
      });
      storage.commit(init);
      lines.push(`${name} init ${fingerprint(init)}`);
      for (const op of ops) {
        const spend = op.method === 'spend';
        const result = callOnce(
          sandbox,
          contract,
          op.method,
          op.method === 'vested' ? [op.arg] : op.method === 'init' ? INIT[name]! : [],
          {
            storage,
            readOnly: spend || op.method === 'vested',
            context: {
              caller: address(keys[op.caller]!),
              height: op.height,
              contract: CONTRACT,
              ...(spend ? { tx: spendTx(op) } : {}),
            },
          },
        );
        storage.commit(result);
        lines.push(`${name} ${op.method} ${fingerprint(result)}`);
      }
      lines.push(`${name} storage ${JSON.stringify([...storage.entries])}`);
    }
  }
  return lines;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  const sandbox = new ContractSandbox();
  process.stdout.write(`${exampleRuns(sandbox, Number(process.argv[2] ?? '1')).join('\n')}\n`);
  sandbox.dispose();
}
