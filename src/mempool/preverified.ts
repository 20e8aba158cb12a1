import type { TxOutput } from '../primitives/index.ts';
import { bytesEqual } from '../util/index.ts';

/**
 * Whether admission resolved the very outputs that pre-verification signed
 * over: the same amount and lock at every input. The signature hash commits
 * to exactly these (and to the transaction, which is the same object), so the
 * signatures verified then are the ones admission would check.
 */
export function sameOutputs(
  preverified: readonly TxOutput[] | undefined,
  spent: readonly TxOutput[],
): boolean {
  if (preverified === undefined || preverified.length !== spent.length) return false;
  return preverified.every(
    (output, i) =>
      output.amount === spent[i]!.amount &&
      output.lock.type === spent[i]!.lock.type &&
      bytesEqual(output.lock.hash, spent[i]!.lock.hash),
  );
}
