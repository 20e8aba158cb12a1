import { DecodeError } from '../../encoding/index.ts';
import { contractLock, lockToAddress } from '../../primitives/index.ts';
import { encodeProof, StateError, type StateKey, StateKeys } from '../../state/index.ts';
import { fromHex, toHex } from '../../util/index.ts';
import {
  ContractError,
  ContractRuleError,
  decodeValue,
  encodeValue,
  queryContract,
  storageKeyText,
  storageStateKey,
  VmLimits,
} from '../../vm/index.ts';
import { ApiError } from '../errors.ts';
import { withErrors } from '../schemas/common.ts';
import {
  ContractParams,
  ContractQueryBody,
  ContractQueryResponse,
  ContractQuerystring,
  ContractResponse,
  StorageParams,
  StorageProofResponse,
  StorageQuerystring,
} from '../schemas/contracts.ts';
import type { ApiApp, ApiContext } from './context.ts';
import { hrpOf } from './json.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Deployed contracts (docs/contracts.md): what a contract is, one storage
 * value with a proof against a block's stateRoot, and read-only queries at
 * the tip. All public: contract state is chain data every node holds; a
 * query's cost is bounded by its gas cap and calls run one at a time.
 */
export function registerContractRoutes(app: ApiApp, ctx: ApiContext): void {
  const { chain } = ctx;
  /** Runs `fn`, answering 404 when the contract does not exist. */
  const known = async <T>(id: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ContractRuleError && error.code === 'CONTRACT_UNKNOWN')
        throw new ApiError(404, 'NOT_FOUND', `no contract ${id}`);
      throw error;
    }
  };

  app.get(
    '/api/v1/contracts/:id',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['contracts'],
        summary: 'A deployed contract: code hash and size, methods, storage entries at the tip',
        params: ContractParams,
        querystring: ContractQuerystring,
        response: withErrors({ 200: ContractResponse }, [404]),
      },
    },
    async (request) => {
      const id = fromHex(request.params.id, 32);
      const loaded = await known(request.params.id, () => chain.contracts.load(chain.state, id));
      const limit = request.query.limit ?? 100;
      const storage: ContractResponse['storage'] = [];
      let storageTruncated = false;
      for await (const entry of chain.state.entries(StateKeys.contractStorageOf(id))) {
        if (storage.length === limit) {
          storageTruncated = true;
          break;
        }
        storage.push({
          key: storageKeyText(id, entry.key),
          stateKey: toHex(entry.key),
          value: utf8.decode(entry.value),
        });
      }
      const source = await chain.state.get(StateKeys.contractSource(loaded.record.codeHash));
      return {
        id: request.params.id,
        address: lockToAddress(contractLock(id), hrpOf(chain.params)),
        codeHash: toHex(loaded.record.codeHash),
        codeSize: source?.length ?? 0,
        methods: [...loaded.compiled.methods],
        deployHeight: loaded.record.deployHeight,
        deployTxid: toHex(loaded.record.deployTxid),
        storage,
        storageTruncated,
      };
    },
  );

  app.get(
    '/api/v1/contracts/:id/storage/:key',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['contracts'],
        summary: 'One storage value with its inclusion (or exclusion) proof against a stateRoot',
        params: StorageParams,
        querystring: StorageQuerystring,
        response: withErrors({ 200: StorageProofResponse }, [404, 410]),
      },
    },
    async (request) => {
      const id = fromHex(request.params.id, 32);
      const { key } = request.params;
      let stateKey: StateKey;
      try {
        stateKey = storageStateKey(id, key);
      } catch (error) {
        if (error instanceof DecodeError)
          throw new ApiError(400, 'BAD_REQUEST', 'the key is not well-formed Unicode');
        throw error;
      }
      const height = request.query.height ?? chain.tipHeight;
      if (height > chain.tipHeight) throw new ApiError(404, 'NOT_FOUND', `no block ${height} yet`);
      let proved: Awaited<ReturnType<typeof chain.state.prove>>;
      try {
        proved = await chain.state.prove(stateKey, { height });
      } catch (error) {
        if (error instanceof StateError && error.code === 'STATE_ROOT_NOT_RETAINED') {
          throw new ApiError(410, 'PRUNED', error.message, { height });
        }
        throw error;
      }
      return {
        key,
        value: proved.value === null ? null : utf8.decode(proved.value),
        height: proved.height,
        stateRoot: toHex(proved.root),
        stateKey: toHex(stateKey),
        proof: toHex(encodeProof(proved.proof)),
      };
    },
  );

  app.post(
    '/api/v1/contracts/:id/query',
    {
      config: { auth: 'public', rateLimitClass: 'submit' },
      schema: {
        tags: ['contracts'],
        summary: 'Calls a method read-only at the tip, within a gas cap (no transaction, no fee)',
        params: ContractParams,
        body: ContractQueryBody,
        response: withErrors({ 200: ContractQueryResponse }, [404]),
      },
    },
    async (request) => {
      const id = fromHex(request.params.id, 32);
      const { method } = request.body;
      const gasLimit = Math.min(request.body.gasLimit ?? VmLimits.maxCallGas, VmLimits.maxCallGas);
      let args: ReturnType<typeof decodeValue>;
      try {
        args = decodeValue(request.body.args ?? '[]', 'the arguments');
      } catch (error) {
        if (error instanceof ContractError) throw new ApiError(400, 'BAD_REQUEST', error.reason);
        throw error;
      }
      if (!Array.isArray(args)) throw new ApiError(400, 'BAD_REQUEST', 'args must be an array');
      const tip = chain.tip;
      const result = await known(request.params.id, () =>
        queryContract(chain.contracts, chain.state, {
          contractId: id,
          method,
          args,
          gasLimit,
          height: tip.height,
          time: tip.header.time,
        }),
      );
      if (result.ok) {
        return {
          ok: true,
          gasUsed: result.gasUsed,
          height: tip.height,
          value: encodeValue(result.value),
        };
      }
      return {
        ok: false,
        gasUsed: result.gasUsed,
        height: tip.height,
        error: { code: result.error.code, reason: result.error.reason },
      };
    },
  );
}
