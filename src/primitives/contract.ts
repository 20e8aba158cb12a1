import { taggedHash } from '../crypto/index.ts';
import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';
import { MAX_MONEY } from './amount.ts';
import { HASH_SIZE, MAX_PAYLOAD_BYTES } from './limits.ts';
import { type Lock, LockType } from './lock.ts';
import type { TxPayload } from './transaction.ts';

/**
 * Transaction payload types of contracts (docs/protocol.md, "Contract
 * payloads"). 0 is the memo and 1-5 are staking; 16 and up are contracts.
 */
export const ContractPayloadType = {
  deploy: 16,
  call: 17,
} as const;
export type ContractPayloadType = (typeof ContractPayloadType)[keyof typeof ContractPayloadType];

/** Hash tag of a contract id (docs/protocol.md). */
export const CONTRACT_ID_TAG = 'utxod/contract-id';

/**
 * Encoding bounds of contract payloads. The vm enforces tighter semantic
 * limits (a call's gas, canonical argument values); these bound what a
 * decoder allocates and accepts.
 */
export const ContractPayloadLimits = {
  /** Largest gas limit a payload may carry (a deploy's base charge plus its init call). */
  maxGasLimit: 4_000_000,
  /** Longest method name, in bytes (ASCII identifier). */
  maxMethodBytes: 64,
  /** Largest argument list: canonical JSON of an array (src/vm/values.ts). */
  maxArgsBytes: 16 * 1024,
  /** Largest contract source (UTF-8); the whole payload must also fit MAX_PAYLOAD_BYTES. */
  maxCodeBytes: 64 * 1024,
} as const;

export interface ContractDeploy {
  readonly kind: 'deploy';
  readonly gasLimit: number;
  readonly gasPrice: bigint;
  /** Contract source, UTF-8. */
  readonly code: Uint8Array;
  /** Arguments of `init`, canonical contract-value JSON of an array (empty: no init call). */
  readonly args: Uint8Array;
}

export interface ContractCall {
  readonly kind: 'call';
  readonly contractId: Uint8Array;
  readonly gasLimit: number;
  readonly gasPrice: bigint;
  readonly method: string;
  /** Canonical contract-value JSON of an array. */
  readonly args: Uint8Array;
}

export type ContractPayload = ContractDeploy | ContractCall;

const TYPES: ReadonlySet<number> = new Set(Object.values(ContractPayloadType));

export function isContractPayloadType(type: number): type is ContractPayloadType {
  return TYPES.has(type);
}

/** A method name: an ASCII identifier, as `export function name` declares it. */
const METHOD_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The id of the contract a deploy transaction creates: one deploy per transaction. */
export function contractId(deployTxid: Uint8Array): Uint8Array {
  if (deployTxid.length !== HASH_SIZE) throw new RangeError('a txid is 32 bytes');
  return taggedHash(CONTRACT_ID_TAG, deployTxid);
}

/** An output only the contract's `spend` rule can release. */
export function contractLock(id: Uint8Array): Lock {
  if (id.length !== HASH_SIZE) throw new RangeError('a contract id is 32 bytes');
  return { type: LockType.contract, hash: new Uint8Array(id) };
}

export function encodeContractPayload(p: ContractPayload): TxPayload {
  const w = new Writer(64 + p.args.length + (p.kind === 'deploy' ? p.code.length : 0));
  if (p.kind === 'deploy') {
    w.u32(p.gasLimit).u64(p.gasPrice).varBytes(p.code).varBytes(p.args);
  } else {
    w.bytes(p.contractId)
      .u32(p.gasLimit)
      .u64(p.gasPrice)
      .varBytes(new TextEncoder().encode(p.method))
      .varBytes(p.args);
  }
  const data = w.finish();
  // Encode what decodes: a builder finds its mistakes here, not at a node.
  const payload = { type: ContractPayloadType[p.kind], data };
  decodeContractPayload(payload);
  return payload;
}

/**
 * Strict decoding: exact length, gas limit in [1, maxGasLimit], gas price in
 * [1, MAX_MONEY], code and arguments non-empty where required, valid UTF-8,
 * method an ASCII identifier. Throws DecodeError; the caller maps it to its
 * verification code.
 */
export function decodeContractPayload(payload: TxPayload): ContractPayload {
  if (payload.data.length > MAX_PAYLOAD_BYTES) {
    throw new DecodeError('too-large', 'contract payload', { size: payload.data.length });
  }
  return decodeExact(payload.data, 'contract payload', (r): ContractPayload => {
    switch (payload.type) {
      case ContractPayloadType.deploy: {
        const gasLimit = readGasLimit(r);
        const gasPrice = readGasPrice(r);
        const code = r.varBytes(ContractPayloadLimits.maxCodeBytes, 'code');
        if (code.length === 0) throw new DecodeError('invalid-value', r.what, { field: 'code' });
        utf8(r, code, 'code');
        const args = r.varBytes(ContractPayloadLimits.maxArgsBytes, 'args');
        utf8(r, args, 'args');
        return { kind: 'deploy', gasLimit, gasPrice, code, args };
      }
      case ContractPayloadType.call: {
        const id = r.bytes(HASH_SIZE, 'contractId');
        const gasLimit = readGasLimit(r);
        const gasPrice = readGasPrice(r);
        const method = utf8(
          r,
          r.varBytes(ContractPayloadLimits.maxMethodBytes, 'method'),
          'method',
        );
        if (!METHOD_RE.test(method))
          throw new DecodeError('invalid-value', r.what, { field: 'method' });
        const args = r.varBytes(ContractPayloadLimits.maxArgsBytes, 'args');
        if (args.length === 0) throw new DecodeError('invalid-value', r.what, { field: 'args' });
        utf8(r, args, 'args');
        return { kind: 'call', contractId: id, gasLimit, gasPrice, method, args };
      }
      default:
        throw new DecodeError('invalid-value', r.what, { field: 'type', value: payload.type });
    }
  });
}

function readGasLimit(r: Reader): number {
  const gasLimit = r.u32('gasLimit');
  if (gasLimit === 0 || gasLimit > ContractPayloadLimits.maxGasLimit) {
    throw new DecodeError('out-of-range', r.what, { field: 'gasLimit', value: gasLimit });
  }
  return gasLimit;
}

function readGasPrice(r: Reader): bigint {
  const gasPrice = r.u64('gasPrice');
  if (gasPrice === 0n || gasPrice > MAX_MONEY) {
    throw new DecodeError('out-of-range', r.what, {
      field: 'gasPrice',
      value: gasPrice.toString(),
    });
  }
  return gasPrice;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(r: Reader, bytes: Uint8Array, field: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    if (error instanceof TypeError) throw new DecodeError('invalid-value', r.what, { field });
    throw error;
  }
}
