import { Tag, taggedHash } from '../crypto/index.ts';
import { Writer } from '../encoding/index.ts';
import { writeOutpoint } from './outpoint.ts';
import type { Transaction, TxOutput } from './transaction.ts';
import { writeOutput } from './transaction.ts';

/** What signatures commit to instead of the chain id string itself. */
export function chainIdHash(chainId: string): Uint8Array {
  return taggedHash(Tag.chainId, new TextEncoder().encode(chainId));
}

/**
 * The digest each input's signature signs (docs/protocol.md, "Signature hash").
 *
 * It commits to the chain id (no cross-chain replay), the version, every
 * input's outpoint together with the amount and lock of the output it spends
 * (so a signer cannot be lied to about the fee), every output, the lock time,
 * the payload, and finally the index of the input being signed. Everything but
 * the index is hashed once per transaction, so signing or checking all n
 * inputs costs O(size), not O(n * size).
 */
export class SighashContext {
  private readonly txDigest: Uint8Array;

  constructor(chainIdHash: Uint8Array, tx: Transaction, spent: readonly TxOutput[]) {
    if (spent.length !== tx.inputs.length) {
      throw new RangeError(`sighash: ${spent.length} spent outputs for ${tx.inputs.length} inputs`);
    }
    const w = new Writer(128 + tx.inputs.length * 77 + tx.outputs.length * 41);
    w.bytes(chainIdHash).u32(tx.version);
    w.varint(tx.inputs.length);
    tx.inputs.forEach((input, i) => {
      writeOutpoint(w, input.prevout);
      writeOutput(w, spent[i]!);
    });
    w.varint(tx.outputs.length);
    for (const output of tx.outputs) writeOutput(w, output);
    w.u32(tx.lockTime);
    if (tx.payload === null) w.u8(0);
    else w.u8(1).varint(tx.payload.type).varBytes(tx.payload.data);
    this.txDigest = taggedHash(Tag.sighashTx, w.finish());
  }

  forInput(index: number): Uint8Array {
    const indexBytes = new Uint8Array(4);
    new DataView(indexBytes.buffer).setUint32(0, index, true);
    return taggedHash(Tag.sighash, this.txDigest, indexBytes);
  }
}
