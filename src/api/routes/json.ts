import type { ConsensusParams } from '../../consensus/index.ts';
import { NETWORK_HRP } from '../../crypto/index.ts';
import type { Block, CommitCertificate, Header, Transaction } from '../../primitives/index.ts';
import { lockToAddress } from '../../primitives/index.ts';
import { toHex } from '../../util/index.ts';
import type { BlockResponse, CommitJson, HeaderJson, TxJson } from '../schemas/chain.ts';

export function hrpOf(params: ConsensusParams): string {
  return NETWORK_HRP[params.network];
}

export function headerJson(header: Header): HeaderJson {
  return {
    hash: toHex(header.hash),
    version: header.version,
    height: header.height,
    time: header.time,
    prevHash: toHex(header.prevHash),
    txRoot: toHex(header.txRoot),
    utxoRoot: toHex(header.utxoRoot),
    stateRoot: toHex(header.stateRoot),
    validatorSetHash: toHex(header.validatorSetHash),
    lastCommitHash: toHex(header.lastCommitHash),
    proposer: toHex(header.proposer),
  };
}

export function commitJson(commit: CommitCertificate): CommitJson {
  return {
    height: commit.height,
    round: commit.round,
    blockHash: toHex(commit.blockHash),
    signatures: commit.signatures.map((s) => ({
      validatorIndex: s.validatorIndex,
      signature: toHex(s.signature),
    })),
  };
}

export function txJson(tx: Transaction, hrp: string, withHex = false): TxJson {
  const json: TxJson = {
    txid: toHex(tx.txid),
    wtxid: toHex(tx.wtxid),
    version: tx.version,
    size: tx.size,
    coinbase: tx.isCoinbase,
    lockTime: tx.lockTime,
    inputs: tx.inputs.map((input, i) => {
      const witness = tx.witnesses[i];
      return {
        prevout: { txid: toHex(input.prevout.txid), index: input.prevout.index },
        publicKey: witness === undefined ? null : toHex(witness.publicKey),
        signature: witness === undefined ? null : toHex(witness.signature),
      };
    }),
    outputs: tx.outputs.map((output, index) => ({
      index,
      amount: output.amount.toString(),
      lock: { type: output.lock.type, hash: toHex(output.lock.hash) },
      address: lockToAddress(output.lock, hrp),
    })),
    payload: tx.payload === null ? null : { type: tx.payload.type, data: toHex(tx.payload.data) },
  };
  if (withHex) json.hex = toHex(tx.encode());
  return json;
}

export function blockJson(
  block: Block,
  commit: CommitCertificate | undefined,
  withTxs: boolean,
  hrp: string,
): BlockResponse {
  const json: BlockResponse = {
    hash: toHex(block.hash),
    height: block.height,
    size: block.size,
    txCount: block.txs.length,
    header: headerJson(block.header),
    lastCommit: commitJson(block.lastCommit),
    commit: commit === undefined ? null : commitJson(commit),
    txids: block.txs.map((tx) => toHex(tx.txid)),
  };
  if (withTxs) json.txs = block.txs.map((tx) => txJson(tx, hrp));
  return json;
}
