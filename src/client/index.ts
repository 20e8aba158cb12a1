/**
 * The utxod wallet SDK (`utxod/client`): keys and HD derivation, addresses,
 * coin selection, fees, building and signing transactions, and typed clients
 * for the node's HTTP API and block stream. No server code and no Node-only
 * module: it runs in browsers (test/browser proves it) as well as in Node.
 * docs/sdk.md has a complete example.
 */
export type { DerivedKey, MnemonicStrength, NetworkName } from '../crypto/index.ts';
export {
  AddressError,
  accountPath,
  DerivationPathError,
  deriveKey,
  generateMnemonic,
  generatePrivateKey,
  getPublicKey,
  MnemonicError,
  mnemonicToSeed,
  NETWORK_HRP,
  validateMnemonic,
} from '../crypto/index.ts';
export type { Lock, Outpoint, StakingPayload, TxOutput } from '../primitives/index.ts';
export {
  addressToLock,
  encodeStakingPayload,
  lockToAddress,
  pubkeyLock,
  StakingPayloadType,
  Transaction,
} from '../primitives/index.ts';
export { fromHex, toHex, UtxodError } from '../util/index.ts';
export * from './amount.ts';
export * from './rpc-client.ts';
export * from './staking.ts';
export * from './stream.ts';
export * from './tx-builder.ts';
export type * from './types.ts';
export * from './wallet.ts';
