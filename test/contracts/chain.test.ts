/**
 * Contracts through the real chain: deploys, calls and contract-locked coins
 * admitted by the mempool and connected in blocks on LevelDB, with rollback
 * and verify-chain covering the contract state (stateRoot).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { planBlockConnect } from '../../src/chain/block-verifier.ts';
import { parseGenesis, serializeGenesis } from '../../src/chain/genesis.ts';
import { verifyChain } from '../../src/chain/verify-chain.ts';
import { VerificationError } from '../../src/consensus/errors.ts';
import { contractId, encodeContractPayload } from '../../src/primitives/contract.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import type { TxOutput } from '../../src/primitives/transaction.ts';
import { StateKeys } from '../../src/state/keys.ts';
import { toHex } from '../../src/util/bytes.ts';
import { ContractRuntime } from '../../src/vm/chain/runtime.ts';
import { deployGas } from '../../src/vm/compile.ts';
import { ContractEngineError } from '../../src/vm/errors.ts';
import { VmLimits } from '../../src/vm/gas.ts';
import { openTestChain } from '../support/chain-fixture.ts';
import { chainRuns } from '../support/contract-chain-runs.ts';
import {
  args,
  build,
  callTx,
  change,
  DEPLOY_GAS,
  deployTx,
  gateWithCoin,
  owned,
  storageOf,
} from '../support/contract-rule-chain.ts';
import {
  alice,
  bob,
  RuleChain,
  ruleGenesis,
  validator,
  withRuleChain,
} from '../support/rule-fixture.ts';

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

  it('a pooled contract spend leaves the pool when a block closes its gate; one still allowed stays', () =>
    withRuleChain(async (r) => {
      const { id, locked, funds } = await gateWithCoin(r);
      const open = callTx(r, funds, id, 'setOpen', args(true));
      await r.connect([open]);
      const [, , c3] = await r.genesisCoins();
      const plain = r.pay([c3!], 1000n, alice);
      const spend = build(
        r,
        [locked],
        [{ amount: locked.output.amount - 200_000n, lock: pubkeyLock(bob.publicKey) }],
      );
      const pool = r.mempool();
      assert.equal((await pool.add(spend, 'peer')).status, 'accepted');
      assert.equal((await pool.add(plain, 'peer')).status, 'accepted');

      // A block that leaves the gate open keeps the spend: it still passes.
      const reopen = callTx(r, owned(open), id, 'setOpen', args(true));
      await pool.removeForBlock(await r.connect([reopen]));
      assert.ok(pool.has(spend.txid), 'still allowed: stays');

      // A block that closes the gate: the spend would now be refused, so it leaves.
      const close = callTx(r, owned(reopen), id, 'setOpen', args(false));
      await pool.removeForBlock(await r.connect([close]));
      assert.equal(pool.has(spend.txid), false, 'refused on the new state: dropped');
      assert.ok(pool.has(plain.txid), 'entries without contract work are not touched');
      await r.rejectsTx(pool, spend, 'CONTRACT_SPEND_REFUSED');
    }));

  it('a contract-locked spend waits as an orphan for its other parent, then is admitted', () =>
    withRuleChain(async (r) => {
      const { id, locked, funds } = await gateWithCoin(r);
      await r.connect([callTx(r, funds, id, 'setOpen', args(true))]);
      const [, , c3] = await r.genesisCoins();
      const parent = r.pay([c3!], 1000n, alice);
      const fromParent = {
        outpoint: { txid: parent.txid, index: 0 },
        output: parent.outputs[0]!,
        key: alice,
      };
      const total = locked.output.amount + fromParent.output.amount;
      const child = build(
        r,
        [locked, fromParent],
        [{ amount: total - 300_000n, lock: pubkeyLock(bob.publicKey) }],
      );
      const pool = r.mempool();
      assert.equal((await pool.add(child, 'peer')).status, 'orphan');
      const admitted = await pool.add(parent, 'peer');
      assert.equal(admitted.status, 'accepted');
      assert.deepEqual(
        admitted.status === 'accepted' ? admitted.resolvedOrphans.map((t) => toHex(t.txid)) : [],
        [toHex(child.txid)],
      );
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

  it('gas fees are ordinary fees: the coinbase may claim them, not one unit more (supply holds)', () =>
    withRuleChain(async (r) => {
      const [c] = await r.genesisCoins();
      const deploy = deployTx(r, c!, true);
      const fee = c!.output.amount - deploy.outputs[0]!.amount;
      assert.equal(fee, BigInt(DEPLOY_GAS), 'the deploy pays exactly its gas');
      await r.rejectsBlock(
        await r.block({ txs: [deploy], coinbaseExtra: 1n }),
        'BLOCK_COINBASE_TOO_LARGE',
      );
      const block = await r.connect([deploy]);
      const subsidy = block.txs[0]!.outputs[0]!.amount - fee;
      assert.equal(subsidy, r.chain.params.initialSubsidy, 'coinbase = subsidy + the gas fee');
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

  it('CONTRACT_PAYLOAD_MALFORMED is stateless: before a later stateless fault, and never an orphan', () =>
    withRuleChain(async (r) => {
      const [c1, c2] = await r.genesisCoins();
      const junkPayload = { type: 17, data: Uint8Array.of(1, 2, 3) };
      const junk = build(r, [c1!], change(c1!, 100_000n), junkPayload);
      const duplicate = build(r, [c2!, c2!], change(c2!, 100_000n));
      // checkTxSanity runs for every transaction before any input is read:
      // the block is refused for its first fault, not for the second one's.
      await r.rejectsBlock(await r.block({ txs: [junk, duplicate] }), 'CONTRACT_PAYLOAD_MALFORMED');
      await r.rejectsBlock(await r.block({ txs: [duplicate, junk] }), 'TX_DUPLICATE_INPUT');
      // A coin nobody has seen: refused at once, not held as an orphan.
      const ghost = { ...c1!, outpoint: { txid: c1!.outpoint.txid, index: 99 } };
      const orphanJunk = build(r, [ghost], change(c1!, 100_000n), junkPayload);
      await r.rejectsTx(r.mempool(), orphanJunk, 'CONTRACT_PAYLOAD_MALFORMED');
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

  it('two processes connect the same contract blocks to the same hashes and roots', async () => {
    const script = fileURLToPath(new URL('../support/contract-chain-runs.ts', import.meta.url));
    const other = execFileSync(process.execPath, ['--no-node-snapshot', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const here = await chainRuns();
    assert.equal(here.length, 4);
    assert.equal(other, `${here.join('\n')}\n`);
  });

  it('a safety net firing during block validation is neither acceptance nor a rule: the block connects on a sound engine', () =>
    withRuleChain(async (r) => {
      const [c1, c2] = await r.genesisCoins();
      const code = new TextEncoder().encode('export function spin(ctx) { for (;;) {} }');
      const deploy = build(
        r,
        [c1!],
        change(c1!, BigInt(deployGas(code.length))),
        encodeContractPayload({
          kind: 'deploy',
          gasLimit: deployGas(code.length),
          gasPrice: 1n,
          code,
          args: new Uint8Array(0),
        }),
      );
      await r.connect([deploy]);
      const spin = build(
        r,
        [c2!],
        change(c2!, BigInt(VmLimits.maxCallGas)),
        encodeContractPayload({
          kind: 'call',
          contractId: contractId(deploy.txid),
          gasLimit: VmLimits.maxCallGas,
          gasPrice: 1n,
          method: 'spin',
          args: args(),
        }),
      );
      const block = await r.block({ txs: [spin] });
      // A 1 ms wall-clock net against a call that runs until its 2,000,000 gas
      // are gone: it fires on most attempts (it is approximate, so not all).
      const tight = new ContractRuntime({ timeoutMs: 1 });
      let fired = 0;
      try {
        for (let attempt = 0; attempt < 20 && fired < 2; attempt++) {
          try {
            await planBlockConnect(block, r.commit(block), {
              ...r.chain.blockContext(null),
              contracts: tight,
            });
          } catch (error) {
            assert.ok(!(error instanceof VerificationError), `a rule error: ${String(error)}`);
            assert.ok(error instanceof ContractEngineError, String(error));
            fired++;
          }
        }
      } finally {
        tight.dispose();
      }
      assert.equal(fired, 2);
      // Nothing was written or marked: the same block connects (the call ran out of gas and paid).
      await r.chain.connectBlock(block, r.commit(block), { now: null });
      assert.equal(r.chain.tipHeight, block.height);
    }));
});
