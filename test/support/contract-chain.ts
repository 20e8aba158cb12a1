/** Contract transactions and blocks over a real state store on LevelDB, for tests. */
import { sha256 } from '../../src/crypto/hash.ts';
import { getPublicKey } from '../../src/crypto/signer.ts';
import {
  type Coin,
  type ContractPayload,
  contractLock,
  encodeContractPayload,
  type Lock,
  pubkeyLock,
  Transaction,
  type TxPayload,
  type Witness,
} from '../../src/primitives/index.ts';
import {
  ContractBlock,
  type ContractParams,
  ContractRuntime,
  type ContractTxResult,
  EMPTY_WITNESS,
} from '../../src/vm/index.ts';
import { commitOverlay, newOverlay, openTestState, type TestState } from './state-fixture.ts';

export const HRP = 'utxtest';

export function testKey(label: string): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const privateKey = sha256(new TextEncoder().encode(`utxod contract test key ${label}`));
  return { privateKey, publicKey: getPublicKey(privateKey) };
}

let serial = 0;

/** Restarts the made-up outpoints, so a run builds the same txids in any process. */
export function resetTxSerial(): void {
  serial = 0;
}

/** Distinct made-up outpoints; deterministic in the order transactions are built. */
function nextTxid(): Uint8Array {
  const n = new Uint8Array(4);
  new DataView(n.buffer).setUint32(0, serial++);
  return sha256(n);
}

/**
 * A transaction spending `spent` (made-up outpoints, one per coin) with a
 * payload. Witnesses carry the signer's key and a dummy signature: the
 * executor trusts the chain to have verified them, so none is checked here.
 */
export function contractTx(opts: {
  payload?: TxPayload | ContractPayload | null;
  signer?: Uint8Array | null;
  spent?: readonly Coin[];
  outputs?: readonly { amount: bigint; lock: Lock }[];
  signers?: readonly (Uint8Array | null)[];
}): { tx: Transaction; spent: Coin[] } {
  const signer = opts.signer === undefined ? testKey('alice').publicKey : opts.signer;
  const spent = [...(opts.spent ?? [coin(10_000_000n, pubkeyLock(signer ?? new Uint8Array(33)))])];
  const payload =
    opts.payload === undefined || opts.payload === null
      ? null
      : 'kind' in opts.payload
        ? encodeContractPayload(opts.payload)
        : opts.payload;
  const witness = (key: Uint8Array | null | undefined): Witness =>
    key === null || key === undefined
      ? EMPTY_WITNESS
      : { publicKey: key, signature: new Uint8Array(64).fill(1) };
  const tx = new Transaction({
    version: 1,
    inputs: spent.map(() => ({ prevout: { txid: nextTxid(), index: 0 } })),
    outputs: opts.outputs ?? [{ amount: 1000n, lock: pubkeyLock(testKey('bob').publicKey) }],
    lockTime: 0,
    payload,
    witnesses: spent.map((_, i) => witness(i === 0 ? signer : opts.signers?.[i])),
  });
  return { tx, spent };
}

export function coin(amount: bigint, lock: Lock, height = 1): Coin {
  return { amount, lock, height, coinbase: false };
}

export function contractCoin(id: Uint8Array, amount = 5_000n): Coin {
  return coin(amount, contractLock(id));
}

export function argsBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function codeBytes(source: string): Uint8Array {
  return new TextEncoder().encode(source);
}

/** One state store and one runtime; `block()` runs transactions as one committed block. */
export class ContractHarness {
  readonly t: TestState;
  readonly runtime: ContractRuntime;
  height = 0;
  time = 1_700_000_000_000;

  private constructor(t: TestState, runtime: ContractRuntime) {
    this.t = t;
    this.runtime = runtime;
  }

  static async open(runtime = new ContractRuntime()): Promise<ContractHarness> {
    return new ContractHarness(await openTestState(), runtime);
  }

  /**
   * Applies `txs` as the next block and commits it only if every transaction
   * was valid. Returns the per-transaction results and the new state root, or
   * the error that made the block invalid.
   */
  async block(
    txs: readonly { tx: Transaction; spent: readonly Coin[] }[],
    params?: ContractParams,
  ): Promise<{ results: (ContractTxResult | null)[]; root: Uint8Array; block: ContractBlock }> {
    const overlay = newOverlay(this.t);
    const block = new ContractBlock(
      { height: this.height + 1, time: this.time + 1000, hrp: HRP, ...(params ? { params } : {}) },
      { overlay, runtime: this.runtime },
    );
    const results: (ContractTxResult | null)[] = [];
    for (const { tx, spent } of txs) results.push(await block.applyTx(tx, spent));
    const root = await commitOverlay(this.t, overlay);
    this.height += 1;
    this.time += 1000;
    return { results, root, block };
  }

  async close(): Promise<void> {
    this.runtime.dispose();
    await this.t.close();
  }
}
