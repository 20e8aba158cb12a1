/**
 * A contract-locked input may carry the empty witness; any other witness on
 * it is verified like a pubkey input's (tx-rules.ts `signatureJobs`), so a
 * spend rule reading `ctx.tx.signers` sees only keys that really signed. A
 * forged witness on a contract input is TX_BAD_SIGNATURE in a block and at
 * admission, even where the spend rule itself would allow the spend.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sign } from '../../src/crypto/signer.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { SighashContext } from '../../src/primitives/sighash.ts';
import type { TxOutput } from '../../src/primitives/transaction.ts';
import { args, build, callTx, gateWithCoin } from '../support/contract-rule-chain.ts';
import { alice, bob, withRuleChain } from '../support/rule-fixture.ts';

describe('witnesses on contract-locked inputs', () => {
  it('a signed witness is verified: a forged one is TX_BAD_SIGNATURE, a real one is accepted', () =>
    withRuleChain(async (r) => {
      const { id, locked, funds } = await gateWithCoin(r);
      const open = callTx(r, funds, id, 'setOpen', args(true));
      await r.connect([open]);
      const toBob: TxOutput[] = [
        { amount: locked.output.amount - 200_000n, lock: pubkeyLock(bob.publicKey) },
      ];
      // The gate is open: with the empty witness this spend is valid.
      const unsigned = build(r, [locked], toBob);
      const digest = new SighashContext(r.chain.chainIdHash, unsigned, [locked.output]).forInput(0);
      const forged = unsigned.withWitnesses([
        {
          publicKey: alice.publicKey,
          signature: sign(new Uint8Array(32).fill(9), alice.privateKey),
        },
      ]);
      await r.rejectsBlock(await r.block({ txs: [forged] }), 'TX_BAD_SIGNATURE');
      await r.rejectsTx(r.mempool(), forged, 'TX_BAD_SIGNATURE');

      const signed = unsigned.withWitnesses([
        { publicKey: alice.publicKey, signature: sign(digest, alice.privateKey) },
      ]);
      assert.equal((await r.mempool().add(signed, 'peer')).status, 'accepted');
      await r.connect([signed]);
      const [spent] = await r.chain.getCoins([locked.outpoint]);
      assert.equal(spent, undefined);
    }));
});
