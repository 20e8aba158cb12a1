/**
 * Contracts through the real chain: deploys, calls and contract-locked coins
 * admitted by the mempool and connected in blocks on LevelDB, with rollback
 * and verify-chain covering the contract state (stateRoot).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGenesis, serializeGenesis } from '../../src/chain/genesis.ts';
import { verifyChain } from '../../src/chain/verify-chain.ts';
import { sign } from '../../src/crypto/signer.ts';
import { contractId, contractLock, encodeContractPayload } from '../../src/primitives/contract.ts';
import { LockType, pubkeyLock } from '../../src/primitives/lock.ts';
import { SighashContext } from '../../src/primitives/sighash.ts';
import { Transaction, TX_VERSION, type TxOutput } from '../../src/primitives/transaction.ts';
import { StateKeys } from '../../src/state/keys.ts';
import { toHex } from '../../src/util/bytes.ts';
import { storageStateKey } from '../../src/vm/chain/records.ts';
import { EMPTY_WITNESS } from '../../src/vm/chain/spend.ts';
import { deployGas } from '../../src/vm/compile.ts';
import { encodeValue } from '../../src/vm/values.ts';
import { openTestChain } from '../support/chain-fixture.ts';
import {
  alice,
  bob,
  type Owned,
  RuleChain,
  ruleGenesis,
  validator,
  withRuleChain,
} from '../support/rule-fixture.ts';

/** A gate: coins locked to it move only while it is open. */
const GATE = new TextEncoder().encode(`export function init(ctx, open) {
  ctx.storage.set('open', open);
  return open;
}
export function setOpen(ctx, open) {
  ctx.storage.set('open', open);
  ctx.emit('gate', { open });
  return open;
}
export function failAfterWrite(ctx) {
  ctx.storage.set('open', 'written by a failed call');
  throw new Error('refused');
}
export function spend(ctx) {
  return ctx.storage.get('open') === true;
}
`);

const CALL_GAS = 50_000;
const DEPLOY_GAS = deployGas(GATE.length) + CALL_GAS;
const args = (...values: Parameters<typeof encodeValue>[0][]) =>
  new TextEncoder().encode(encodeValue(values));

/** Spends `inputs` (contract-locked ones with the empty witness), signing the others. */
function build(
  r: RuleChain,
  inputs: readonly Owned[],
  outputs: readonly TxOutput[],
  payload: Transaction['payload'] = null,
): Transaction {
  const unsigned = new Transaction({
    version: TX_VERSION,
    inputs: inputs.map((i) => ({ prevout: i.outpoint })),
    outputs,
    lockTime: 0,
    payload,
    witnesses: [],
  });
  const context = new SighashContext(
    r.chain.chainIdHash,
    unsigned,
    inputs.map((i) => i.output),
  );
  return unsigned.withWitnesses(
    inputs.map((input, i) =>
      input.output.lock.type === LockType.contract
        ? EMPTY_WITNESS
        : {
            publicKey: input.key.publicKey,
            signature: sign(context.forInput(i), input.key.privateKey),
          },
    ),
  );
}

/** Change back to the payer after `fee`, as the only output. */
const change = (input: Owned, fee: bigint): TxOutput[] => [
  { amount: input.output.amount - fee, lock: pubkeyLock(alice.publicKey) },
];

const owned = (tx: Transaction, index = 0): Owned => ({
  outpoint: { txid: tx.txid, index },
  output: tx.outputs[index]!,
  key: alice,
});

function deployTx(r: RuleChain, input: Owned, open: boolean, fee = BigInt(DEPLOY_GAS)) {
  return build(
    r,
    [input],
    change(input, fee),
    encodeContractPayload({
      kind: 'deploy',
      gasLimit: DEPLOY_GAS,
      gasPrice: 1n,
      code: GATE,
      args: args(open),
    }),
  );
}

function callTx(r: RuleChain, input: Owned, id: Uint8Array, method: string, callArgs: Uint8Array) {
  return build(
    r,
    [input],
    change(input, BigInt(CALL_GAS)),
    encodeContractPayload({
      kind: 'call',
      contractId: id,
      gasLimit: CALL_GAS,
      gasPrice: 1n,
      method,
      args: callArgs,
    }),
  );
}

async function storageOf(r: RuleChain, id: Uint8Array, key: string): Promise<string | undefined> {
  const raw = await r.chain.state.get(storageStateKey(id, key));
  return raw === undefined ? undefined : new TextDecoder().decode(raw);
}

/** Deploys a closed gate (mempool, then a block) and locks one coin to it. */
async function gateWithCoin(r: RuleChain) {
  const [c1, c2] = await r.genesisCoins();
  const deploy = deployTx(r, c1!, false);
  const pool = r.mempool();
  assert.equal((await pool.add(deploy, 'peer')).status, 'accepted');
  await r.connect([deploy]);
  const id = contractId(deploy.txid);
  const lockIt = build(
    r,
    [c2!],
    [
      { amount: 5_000_000n, lock: contractLock(id) },
      { amount: c2!.output.amount - 5_000_000n - 1000n, lock: pubkeyLock(alice.publicKey) },
    ],
  );
  await r.connect([lockIt]);
  return { id, deploy, locked: owned(lockIt, 0), funds: owned(lockIt, 1) };
}

describe('contracts in blocks', () => {
  it('a contract-locked coin is refused while the spend rule says no, and spent once it says yes', () =>
    withRuleChain(async (r) => {
      const { id, locked, funds } = await gateWithCoin(r);
      assert.ok(await r.chain.state.get(StateKeys.contractCode(id)), 'the deploy is in the state');
      const toBob: TxOutput[] = [
        { amount: locked.output.amount - 200_000n, lock: pubkeyLock(bob.publicKey) },
      ];
      const refused = build(r, [locked], toBob);
      await r.rejectsBlock(await r.block({ txs: [refused] }), 'CONTRACT_SPEND_REFUSED');
      await r.rejectsTx(r.mempool(), refused, 'CONTRACT_SPEND_REFUSED');

      const open = callTx(r, funds, id, 'setOpen', args(true));
      const pool = r.mempool();
      assert.equal((await pool.add(open, 'peer')).status, 'accepted');
      await r.connect([open]);
      assert.equal(await storageOf(r, id, 'open'), 'true');

      // The spend reserves spendGasLimit gas at minGasPrice: a fee below that is refused.
      const cheap = build(
        r,
        [locked],
        [{ amount: locked.output.amount - 1000n, lock: pubkeyLock(bob.publicKey) }],
      );
      await r.rejectsBlock(await r.block({ txs: [cheap] }), 'TX_FEE_BELOW_GAS');
      const allowed = build(r, [locked], toBob);
      assert.equal((await r.mempool().add(allowed, 'peer')).status, 'accepted');
      await r.connect([allowed]);
      const [spent, paid] = await r.chain.getCoins([
        locked.outpoint,
        { txid: allowed.txid, index: 0 },
      ]);
      assert.equal(spent, undefined);
      assert.equal(paid?.amount, toBob[0]!.amount);
    }));

  it('a failed call pays its gas and leaves no write; the mempool declines it up front', () =>
    withRuleChain(async (r) => {
      const { id, funds } = await gateWithCoin(r);
      const failing = callTx(r, funds, id, 'failAfterWrite', args());
      await assert.rejects(r.mempool().add(failing, 'peer'), /MEMPOOL_CONTRACT_FAILED/);
      const root = toHex(r.chain.tip.header.stateRoot);
      const block = await r.connect([failing]);
      assert.equal(await storageOf(r, id, 'open'), 'false', 'the failed write was reverted');
      assert.equal(block.txs[0]!.outputs[0]!.amount > 0n, true);
      // Height moved the state (liveness records) but the contract's entry did not change.
      assert.notEqual(toHex(r.chain.tip.header.stateRoot), root);
    }));

  it('a deploy paying less than its gas limit x gas price is invalid (TX_FEE_BELOW_GAS)', () =>
    withRuleChain(async (r) => {
      const [c] = await r.genesisCoins();
      const cheap = deployTx(r, c!, false, BigInt(DEPLOY_GAS) - 1n);
      await r.rejectsBlock(await r.block({ txs: [cheap] }), 'TX_FEE_BELOW_GAS');
      await r.rejectsTx(r.mempool(), cheap, 'TX_FEE_BELOW_GAS');
    }));

  it('a payload that does not decode is CONTRACT_PAYLOAD_MALFORMED everywhere', () =>
    withRuleChain(async (r) => {
      const [c] = await r.genesisCoins();
      const junk = build(r, [c!], change(c!, 100_000n), { type: 17, data: Uint8Array.of(1, 2, 3) });
      await r.rejectsBlock(await r.block({ txs: [junk] }), 'CONTRACT_PAYLOAD_MALFORMED');
      await r.rejectsTx(r.mempool(), junk, 'CONTRACT_PAYLOAD_MALFORMED');
    }));

  it('rollback across deploys and calls restores the state root; verify-chain replays them', () =>
    withRuleChain(async (r) => {
      const { id, funds } = await gateWithCoin(r);
      const rootBeforeCall = r.chain.tip.header.stateRoot;
      await r.connect([callTx(r, funds, id, 'setOpen', args(true))]);
      assert.equal(await storageOf(r, id, 'open'), 'true');

      const full = await verifyChain(r.chain, {
        full: true,
        scanUtxos: true,
        signatures: r.signatures,
      });
      assert.equal(full.toHeight, r.chain.tipHeight);

      await r.chain.disconnectTip();
      assert.equal(toHex(r.chain.state.root), toHex(rootBeforeCall));
      assert.equal(await storageOf(r, id, 'open'), 'false');
      await r.chain.disconnectTip(); // the lock
      await r.chain.disconnectTip(); // the deploy
      assert.equal(await r.chain.state.get(StateKeys.contractCode(id)), undefined);
      assert.equal(await storageOf(r, id, 'open'), undefined);
      assert.equal(toHex(r.chain.state.root), toHex(r.chain.tip.header.stateRoot));
    }));

  it('the state root commits to the contract storage (a different write, a different root)', () =>
    withRuleChain(async (r) => {
      const [c] = await r.genesisCoins();
      const open = deployTx(r, c!, true);
      const closed = deployTx(r, c!, false);
      const a = await r.chain.previewState({
        height: r.chain.tipHeight + 1,
        time: r.chain.tip.header.time + 1000,
        lastCommit: await r.chain.requireCommitAt(r.chain.tipHeight),
        txs: [open],
      });
      const b = await r.chain.previewState({
        height: r.chain.tipHeight + 1,
        time: r.chain.tip.header.time + 1000,
        lastCommit: await r.chain.requireCommitAt(r.chain.tipHeight),
        txs: [closed],
      });
      assert.notEqual(toHex(a.root), toHex(b.root));
    }));

  it('the block gas limit (a genesis parameter) refuses a block over it; the pool and the assembler leave the excess out', async () => {
    const base = ruleGenesis();
    // Room for two deploys' reserved gas, not three.
    const blockGasLimit = 2 * DEPLOY_GAS + 1;
    const genesis = parseGenesis(
      serializeGenesis({
        ...base,
        params: { ...base.params, contracts: { ...base.params.contracts, blockGasLimit } },
      }),
    );
    assert.equal(
      genesis.params.contracts.blockGasLimit,
      blockGasLimit,
      'the parameter round-trips',
    );
    const tc = await openTestChain({ genesis, validator });
    try {
      const r = new RuleChain(tc);
      const [c1, c2, c3] = await r.genesisCoins();
      const deploys = [deployTx(r, c1!, true), deployTx(r, c2!, true), deployTx(r, c3!, true)];
      await r.rejectsBlock(await r.block({ txs: deploys }), 'CONTRACT_BLOCK_GAS');
      const pool = r.mempool();
      for (const tx of deploys) assert.equal((await pool.add(tx, 'peer')).status, 'accepted');
      // The pool counts each deploy's gas as block bytes: a template holds two.
      const template = pool.blockTemplate({ maxBytes: genesis.params.maxBlockBytes });
      assert.equal(template.txs.length, 2);
      // Handed all three, the assembler leaves the one over the gas limit out.
      const { assembleBlock } = await import('../../src/chain/block-assembler.ts');
      const block = await assembleBlock(r.chain, {
        txs: deploys,
        proposer: validator.publicKey,
        rewardLock: pubkeyLock(validator.publicKey),
        time: r.chain.tip.header.time + 1000,
      });
      assert.equal(block.txs.length, 3, 'coinbase and two deploys');
      await r.chain.connectBlock(block, r.commit(block), { now: null });
      assert.equal(r.chain.tipHeight, 1);
    } finally {
      await tc.destroy();
    }
  });
});
