import { Point, Signature } from '@noble/secp256k1';
import { VerificationError } from '../consensus/index.ts';
import { LockType, pubkeyHash, type Transaction, type TxOutput } from '../primitives/index.ts';
import { bytesEqual, toHex } from '../util/index.ts';
import { isEmptyWitness } from '../vm/index.ts';

/**
 * What can be checked of a transaction before its parents are known, so that
 * the orphan pool is not filled with things that can never be valid.
 *
 * The signatures themselves cannot be verified: the signature hash commits to
 * the amount and lock of *every* spent output (docs/protocol.md), and those of
 * a missing parent are unknown. Guessing them is no use either: the lock of a
 * pubkey-hash output follows from the witness's key, but the amount does not.
 * What can be checked without the message:
 *
 * - every witness key is a point on the curve, and every signature a compact
 *   (r, s) with both in [1, n-1] and s low: anything else fails verification
 *   whatever the message, so it is refused now (TX_BAD_SIGNATURE, as a block
 *   would);
 * - every input whose coin *is* known (in the chain or the pool) is signed by
 *   the key its lock names (TX_WRONG_KEY): only the known inputs' locks can
 *   be compared, but they must all match. Contract-locked coins name no key
 *   (their spend rule runs when the orphan is admitted), and an empty
 *   witness is let through where the coin is one or is unknown.
 *
 * An attacker with a key of its own can still make orphans that pass both
 * (it signs digests of made-up parents), which is why the orphan pool also
 * bounds what each sender holds (orphans.ts). Cost: one point decompression
 * per input (tens of microseconds), far below a signature verification.
 */
export function checkOrphanWitnesses(
  tx: Transaction,
  known: readonly (TxOutput | undefined)[],
): void {
  tx.witnesses.forEach((witness, inputIndex) => {
    const where = { txid: toHex(tx.txid), inputIndex };
    const output = known[inputIndex];
    // A contract-locked input may carry the empty witness (no key signs it),
    // and an input whose coin is unknown may be one: nothing to check.
    if (isEmptyWitness(witness) && output?.lock.type !== LockType.pubkeyHash) return;
    try {
      Point.fromBytes(witness.publicKey);
    } catch (error) {
      throw new VerificationError(
        'TX_BAD_SIGNATURE',
        `input ${inputIndex}: the witness key is not a curve point (${(error as Error).message})`,
        where,
      );
    }
    let signature: Signature;
    try {
      signature = Signature.fromBytes(witness.signature, 'compact');
    } catch (error) {
      throw new VerificationError(
        'TX_BAD_SIGNATURE',
        `input ${inputIndex}: the signature is no compact (r, s) (${(error as Error).message})`,
        where,
      );
    }
    if (signature.hasHighS()) {
      throw new VerificationError(
        'TX_BAD_SIGNATURE',
        `input ${inputIndex}: the signature has a high S (only low-S verifies)`,
        where,
      );
    }
    // A contract-locked coin is released by its spend rule, not by a key.
    if (
      output !== undefined &&
      output.lock.type !== LockType.contract &&
      (output.lock.type !== LockType.pubkeyHash ||
        !bytesEqual(pubkeyHash(witness.publicKey), output.lock.hash))
    ) {
      throw new VerificationError(
        'TX_WRONG_KEY',
        `input ${inputIndex}: the witness key does not match the lock`,
        where,
      );
    }
  });
}
