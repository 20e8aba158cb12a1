export * from './chain/index.ts';
export { type CompiledContract, compileContract, deployGas } from './compile.ts';
export { ContractEngineError, ContractError, type ContractErrorCode } from './errors.ts';
export { Gas, VmLimits } from './gas.ts';
export type { AsyncCallRequest, AsyncContractStorageReader } from './sandbox.ts';
export {
  type CallContext,
  type CallRequest,
  type CallResult,
  type ContractEvent,
  ContractSandbox,
  type ContractStorageReader,
} from './sandbox.ts';
export { type ContractValue, decodeValue, encodeValue } from './values.ts';
