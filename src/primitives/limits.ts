/**
 * Hard encoding bounds. Decoders check these before allocating, so a hostile
 * length prefix can never make the node reserve more than a block's worth of
 * memory. Consensus size rules (block and transaction bytes) live in
 * consensus/params.ts; these are the outer envelope.
 */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024;
export const MAX_TX_BYTES = 1024 * 1024;
/** A 64-byte compact signature + 33-byte key per input, plus the 36-byte outpoint. */
export const MIN_INPUT_BYTES = 36 + 33 + 64;
export const MAX_TX_INPUTS = Math.floor(MAX_TX_BYTES / MIN_INPUT_BYTES);
/** An output is 8 (amount) + 33 (lock) bytes. */
export const MAX_TX_OUTPUTS = Math.floor(MAX_TX_BYTES / 41);
export const MAX_BLOCK_TXS = Math.floor(MAX_BLOCK_BYTES / 60);
export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const MAX_COMMIT_SIGNATURES = 1024;
/** Evidence items a block may carry at most; the consensus bound (bytes) is lower. */
export const MAX_BLOCK_EVIDENCE = 1024;

export const HASH_SIZE = 32;
export const PUBKEY_SIZE = 33;
export const SIGNATURE_SIZE = 64;
