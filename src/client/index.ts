/**
 * The utxod wallet SDK (`utxod/client`): keys and HD derivation, addresses,
 * coin selection, fees, building and signing transactions, and typed clients
 * for the node's HTTP API and block stream. No server code and no Node-only
 * module: it runs in browsers (test/browser proves it) as well as in Node.
 * docs/sdk.md has a complete example.
 */
export type { NetworkName } from '../crypto/address.ts';
export { AddressError, NETWORK_HRP } from '../crypto/address.ts';
export type { DerivedKey, MnemonicStrength } from '../crypto/hd-keys.ts';
export {
  accountPath,
  DerivationPathError,
  deriveKey,
  generateMnemonic,
  MnemonicError,
  mnemonicToSeed,
  validateMnemonic,
} from '../crypto/hd-keys.ts';
export { generatePrivateKey, getPublicKey } from '../crypto/signer.ts';
export { addressToLock, lockToAddress } from '../primitives/address.ts';
export type { Lock } from '../primitives/lock.ts';
export { pubkeyLock } from '../primitives/lock.ts';
export type { Outpoint } from '../primitives/outpoint.ts';
export type { TxOutput } from '../primitives/transaction.ts';
export { Transaction } from '../primitives/transaction.ts';
export { fromHex, toHex } from '../util/bytes.ts';
export { UtxodError } from '../util/errors.ts';
export * from './amount.ts';
export * from './rpc-client.ts';
export * from './stream.ts';
export * from './tx-builder.ts';
export type * from './types.ts';
export * from './wallet.ts';
