/**
 * Orphan transactions as a spammer makes them: each spends a made-up parent
 * and is signed with the sender's own key over a made-up amount, so it passes
 * every check that can be made before the parent is known (see
 * src/mempool/orphan-checks.ts). Variants break one of those checks.
 */
import { sha256 } from '../../src/crypto/hash.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { sign } from '../../src/crypto/signer.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { SighashContext } from '../../src/primitives/sighash.ts';
import { Transaction, TX_VERSION } from '../../src/primitives/transaction.ts';
import { concatBytes, u32BE } from '../../src/util/bytes.ts';

/** secp256k1's group order: s and n - s are the two encodings of one signature. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

export type OrphanFlaw = 'none' | 'zero-signature' | 'high-s' | 'bad-key';

export function madeUpOrphan(
  key: Pick<KeyPair, 'privateKey' | 'publicKey'>,
  chainIdHash: Uint8Array,
  seed: number,
  flaw: OrphanFlaw = 'none',
): Transaction {
  const parent = sha256(concatBytes(new TextEncoder().encode('made-up parent'), u32BE(seed)));
  const unsigned = new Transaction({
    version: TX_VERSION,
    inputs: [{ prevout: { txid: parent, index: 0 } }],
    outputs: [{ amount: 1_000n, lock: pubkeyLock(key.publicKey) }],
    lockTime: 0,
    payload: null,
    witnesses: [],
  });
  const context = new SighashContext(chainIdHash, unsigned, [
    { amount: 5_000_000n, lock: pubkeyLock(key.publicKey) },
  ]);
  let signature = sign(context.forInput(0), key.privateKey);
  if (flaw === 'zero-signature') signature = new Uint8Array(64);
  if (flaw === 'high-s') {
    const s = BigInt(`0x${Buffer.from(signature.subarray(32)).toString('hex')}`);
    const high = Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex');
    signature = concatBytes(signature.subarray(0, 32), high);
  }
  // 0x02 then x = 2^256 - 1: above the field prime, so no point has it.
  const publicKey =
    flaw === 'bad-key'
      ? concatBytes(Uint8Array.of(2), new Uint8Array(32).fill(0xff))
      : key.publicKey;
  return unsigned.withWitnesses([{ publicKey, signature }]);
}
