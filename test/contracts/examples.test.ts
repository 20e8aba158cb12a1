import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { ContractSandbox, type ContractValue } from '../../src/vm/index.ts';
import {
  callOnce,
  exampleContract,
  fingerprint,
  MemoryContractStorage,
} from '../support/contract-fixture.ts';

const sandbox = new ContractSandbox();
after(() => sandbox.dispose());

const key = (n: number) => `02${n.toString(16).padStart(64, '0')}`;
const lockHash = (n: number) => n.toString(16).padStart(64, '0');
const [alice, bob, carol, dave] = [key(1), key(2), key(3), key(4)];
// On a chain ctx.caller is an address, not a key: the vault is given both.
const addressOf = (k: string) => `utxtest1${k.slice(-8)}`;
const partyOf = (k: string) => ({ key: k, address: addressOf(k) });

function spendTx(
  signers: string[],
  outputs: Array<{ amount: bigint; type?: string; hash: string }> = [],
): ContractValue {
  return {
    txid: 'ab'.repeat(32),
    inputIndex: 0,
    inputs: [
      { txid: 'cd'.repeat(32), vout: 0, amount: 1000n, lock: { type: 'contract', hash: 'c0ffee' } },
    ],
    outputs: outputs.map((o) => ({
      amount: o.amount,
      lock: { type: o.type ?? 'pubkey', hash: o.hash },
    })),
    lockTime: 0,
    signers,
  };
}

function deploy(name: string, method: string, args: ContractValue[]): MemoryContractStorage {
  const storage = new MemoryContractStorage();
  const result = callOnce(sandbox, exampleContract(name), method, args, { storage });
  assert.ok(result.ok, !result.ok ? result.error.message : '');
  storage.commit(result);
  return storage;
}

function spends(
  name: string,
  storage: MemoryContractStorage,
  tx: ContractValue,
  height = 7,
): boolean {
  const result = callOnce(sandbox, exampleContract(name), 'spend', [], {
    storage,
    readOnly: true,
    context: { tx, height },
  });
  assert.ok(result.ok, !result.ok ? result.error.message : '');
  return result.value === true;
}

describe('example contracts', () => {
  test('multisig: 2 of 3 owners release, 1 or strangers do not, and it initialises once', () => {
    const storage = deploy('multisig.js', 'init', [[alice, bob, carol], 2]);
    assert.equal(spends('multisig.js', storage, spendTx([alice, carol])), true);
    assert.equal(spends('multisig.js', storage, spendTx([alice])), false);
    assert.equal(spends('multisig.js', storage, spendTx([alice, dave])), false);
    const again = callOnce(sandbox, exampleContract('multisig.js'), 'init', [[dave], 1], {
      storage,
    });
    assert.ok(!again.ok && again.error.reason === 'already initialised');
  });

  test('escrow: buyer and seller together, or the arbiter paying only a party', () => {
    const storage = deploy('escrow.js', 'init', [
      {
        buyer: alice,
        seller: bob,
        arbiter: carol,
        buyerLock: lockHash(1),
        sellerLock: lockHash(2),
      },
    ]);
    assert.equal(
      spends('escrow.js', storage, spendTx([alice, bob], [{ amount: 900n, hash: lockHash(9) }])),
      true,
    );
    assert.equal(
      spends('escrow.js', storage, spendTx([carol, bob], [{ amount: 900n, hash: lockHash(2) }])),
      true,
    );
    assert.equal(
      spends('escrow.js', storage, spendTx([carol, bob], [{ amount: 900n, hash: lockHash(3) }])),
      false,
    );
    assert.equal(
      spends('escrow.js', storage, spendTx([carol], [{ amount: 900n, hash: lockHash(1) }])),
      false,
    );
  });

  test('vault: the owner waits out the delay after announcing; recovery sweeps and cancels', () => {
    const storage = deploy('vault.js', 'init', [partyOf(alice), partyOf(bob), 10]);
    assert.equal(spends('vault.js', storage, spendTx([alice]), 100), false, 'no announcement yet');
    const announced = callOnce(sandbox, exampleContract('vault.js'), 'announce', [], {
      storage,
      context: { caller: addressOf(alice), height: 100 },
    });
    assert.ok(announced.ok && announced.value === 110);
    storage.commit(announced);
    assert.equal(spends('vault.js', storage, spendTx([alice]), 109), false);
    assert.equal(spends('vault.js', storage, spendTx([alice]), 110), true);
    assert.equal(
      spends('vault.js', storage, spendTx([bob]), 101),
      true,
      'recovery sweeps at any time',
    );
    const stranger = callOnce(sandbox, exampleContract('vault.js'), 'cancel', [], {
      storage,
      context: { caller: addressOf(carol) },
    });
    assert.ok(!stranger.ok);
    const cancelled = callOnce(sandbox, exampleContract('vault.js'), 'cancel', [], {
      storage,
      context: { caller: addressOf(bob) },
    });
    storage.commit(cancelled);
    assert.equal(spends('vault.js', storage, spendTx([alice]), 200), false, 'cancelled');
  });

  test('vesting: the unvested remainder must return to the contract', () => {
    const storage = deploy('vesting.js', 'init', [alice, 1000n, 100, 100]);
    const back = (amount: bigint) => ({ amount, type: 'contract', hash: 'c0ffee' });
    assert.equal(spends('vesting.js', storage, spendTx([alice], [back(750n)]), 125), true);
    assert.equal(spends('vesting.js', storage, spendTx([alice], [back(749n)]), 125), false);
    assert.equal(spends('vesting.js', storage, spendTx([alice], []), 200), true, 'fully vested');
    assert.equal(
      spends('vesting.js', storage, spendTx([bob], []), 300),
      false,
      'only the beneficiary',
    );
    const vested = callOnce(sandbox, exampleContract('vesting.js'), 'vested', [150], {
      storage,
      readOnly: true,
    });
    assert.ok(vested.ok && vested.value === 500n);
  });

  test('random call sequences give identical gas, storage and events in warm and fresh isolates', () => {
    const contract = exampleContract('vault.js');
    const call = fc.oneof(
      fc.record({
        method: fc.constant('announce'),
        caller: fc.constantFrom(...[alice, bob, carol].map(addressOf)),
        height: fc.nat(1000),
      }),
      fc.record({
        method: fc.constant('cancel'),
        caller: fc.constantFrom(...[alice, bob, carol].map(addressOf)),
        height: fc.nat(1000),
      }),
    );
    fc.assert(
      fc.property(fc.array(call, { maxLength: 8 }), (calls) => {
        const run = (box: ContractSandbox) => {
          const storage = new MemoryContractStorage();
          const init = callOnce(box, contract, 'init', [partyOf(alice), partyOf(bob), 5], {
            storage,
          });
          storage.commit(init);
          const prints = [fingerprint(init)];
          for (const c of calls) {
            const r = callOnce(box, contract, c.method, [], {
              storage,
              context: { caller: c.caller, height: c.height },
            });
            storage.commit(r);
            prints.push(fingerprint(r));
          }
          return `${prints.join('\n')}\n${JSON.stringify([...storage.entries])}`;
        };
        const fresh = new ContractSandbox({ warmContexts: false });
        try {
          assert.equal(run(fresh), run(sandbox));
        } finally {
          fresh.dispose();
        }
      }),
      { numRuns: 15 },
    );
  });
});
