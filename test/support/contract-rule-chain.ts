/**
 * Contract transactions on a RuleChain (test/support/rule-fixture.ts): a
 * "gate" contract whose coins move only while it is open, signed deploys and
 * calls, and contract-locked spends with the empty witness.
 */
import assert from 'node:assert/strict';
import { sign } from '../../src/crypto/signer.ts';
import { contractId, contractLock, encodeContractPayload } from '../../src/primitives/contract.ts';
import { LockType, pubkeyLock } from '../../src/primitives/lock.ts';
import { SighashContext } from '../../src/primitives/sighash.ts';
import { Transaction, TX_VERSION, type TxOutput } from '../../src/primitives/transaction.ts';
import { storageStateKey } from '../../src/vm/chain/records.ts';
import { EMPTY_WITNESS } from '../../src/vm/chain/spend.ts';
import { deployGas } from '../../src/vm/compile.ts';
import { encodeValue } from '../../src/vm/values.ts';
import { alice, type Owned, type RuleChain } from './rule-fixture.ts';

/** A gate: coins locked to it move only while it is open. */
export const GATE = new TextEncoder().encode(`export function init(ctx, open) {
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

export const CALL_GAS = 50_000;
export const DEPLOY_GAS = deployGas(GATE.length) + CALL_GAS;
export const args = (...values: Parameters<typeof encodeValue>[0][]) =>
  new TextEncoder().encode(encodeValue(values));

/** Spends `inputs` (contract-locked ones with the empty witness), signing the others. */
export function build(
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
export const change = (input: Owned, fee: bigint): TxOutput[] => [
  { amount: input.output.amount - fee, lock: pubkeyLock(alice.publicKey) },
];

export const owned = (tx: Transaction, index = 0): Owned => ({
  outpoint: { txid: tx.txid, index },
  output: tx.outputs[index]!,
  key: alice,
});

export function deployTx(r: RuleChain, input: Owned, open: boolean, fee = BigInt(DEPLOY_GAS)) {
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

export function callTx(
  r: RuleChain,
  input: Owned,
  id: Uint8Array,
  method: string,
  callArgs: Uint8Array,
) {
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

export async function storageOf(
  r: RuleChain,
  id: Uint8Array,
  key: string,
): Promise<string | undefined> {
  const raw = await r.chain.state.get(storageStateKey(id, key));
  return raw === undefined ? undefined : new TextDecoder().decode(raw);
}

/** Deploys a closed gate (mempool, then a block) and locks one coin to it. */
export async function gateWithCoin(r: RuleChain) {
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
