/** A real ApiServer over a real chain (LevelDB in a temp dir) and a real mempool, on loopback. */

import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ConsensusQueries, StakingQueries } from '../../src/api/queries.ts';
import type { NodeStatusSource } from '../../src/api/routes/context.ts';
import { type ApiAuthPlugin, ApiServer, type ApiServerOptions } from '../../src/api/server.ts';
import { assembleBlock } from '../../src/chain/block-assembler.ts';
import { BlockImporter } from '../../src/chain/block-importer.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { NETWORK_HRP } from '../../src/crypto/address.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { Mempool } from '../../src/mempool/mempool.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import { lockToAddress } from '../../src/primitives/address.ts';
import type { Block } from '../../src/primitives/block.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import type { Transaction } from '../../src/primitives/transaction.ts';
import {
  genesisCoins,
  openTestChain,
  type TestChain,
  testGenesis,
  testKey,
} from './chain-fixture.ts';

export type MutableStatus = {
  -readonly [K in keyof NodeStatusSource]-?: NodeStatusSource[K];
} & { listenAddrs: string[] };

export interface ApiFixture {
  readonly t: TestChain;
  readonly mempool: Mempool;
  readonly importer: BlockImporter;
  readonly api: ApiServer;
  readonly url: string;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly alice: KeyPair;
  readonly bob: KeyPair;
  readonly aliceAddress: string;
  readonly bobAddress: string;
  /** Mutable: tests flip sync and state-sync state under the running server. */
  readonly status: MutableStatus;
  /** Where the admin flush route writes the mempool snapshot. */
  readonly mempoolFile: string;
  /** Builds a block from the mempool's template and imports it (observers fire). */
  produce(): Promise<Block>;
  /** A signed payment from alice's genesis coin. */
  pay(amount: bigint, opts?: { coins?: SpendableCoin[]; feeRate?: bigint }): Promise<Transaction>;
  close(): Promise<void>;
}

export async function startApiFixture(
  opts: Partial<Omit<ApiServerOptions, 'host' | 'port'>> & {
    auth?: ApiAuthPlugin;
    /** Where the server logs (default: nowhere). */
    logger?: Logger;
    /** Staking registry and consensus state for the staking routes. */
    staking?: StakingQueries;
    consensus?: ConsensusQueries;
  } = {},
): Promise<ApiFixture> {
  const validator = testKey(0);
  const alice = testKey(1);
  const bob = testKey(2);
  const genesis = testGenesis({ validator, funded: [alice, bob] });
  const t = await openTestChain({ genesis, validator });
  const chain = t.chain;
  const signatures = new SignatureChecker({ verifier: t.verifier, cache: null });
  const mempool = new Mempool(
    { maxBytes: 8 * 1024 * 1024, minRelayFeeRate: 1000n },
    { params: chain.params, chainIdHash: chain.chainIdHash, chain, signatures },
  );
  const logger = opts.logger ?? silentLogger();
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const importer = new BlockImporter({ chain, mempool, metrics: null, logger });
  const mempoolFile = join(t.dir, 'mempool.dat');
  const status: MutableStatus = {
    syncing: false,
    peers: 0,
    listenAddrs: [],
    sync: null,
    stateSync: null,
    stateSyncRunning: false,
  };
  const { auth, logger: _logger, staking, consensus, ...serverOpts } = opts;
  const api = await ApiServer.init(
    { host: '127.0.0.1', port: 0, ...serverOpts },
    {
      chain,
      mempool,
      metricsRegistry: registry,
      logger,
      blockEvents: importer.events,
      status,
      admin: {
        // The node's own flush: a real snapshot file, which tests read back.
        flushMempool: async () => {
          await mempool.saveTo(mempoolFile);
          return { path: mempoolFile, txs: mempool.size };
        },
      },
      ...(auth === undefined ? {} : { auth }),
      ...(staking === undefined ? {} : { staking }),
      ...(consensus === undefined ? {} : { consensus }),
    },
  );
  const url = await api.listen();
  const hrp = NETWORK_HRP[chain.params.network];
  let time = Math.max(Date.now(), chain.tip.header.time + 1);
  return {
    t,
    mempool,
    importer,
    api,
    url,
    registry,
    logger,
    alice,
    bob,
    aliceAddress: lockToAddress(pubkeyLock(alice.publicKey), hrp),
    bobAddress: lockToAddress(pubkeyLock(bob.publicKey), hrp),
    status,
    mempoolFile,
    async produce() {
      time = Math.max(time + 1, Date.now());
      const template = mempool.blockTemplate({ maxBytes: 1024 * 1024 });
      const block = await assembleBlock(chain, {
        txs: template.txs,
        fees: template.fees,
        proposer: validator.publicKey,
        rewardLock: pubkeyLock(validator.publicKey),
        time,
      });
      await importer.importBlock(block, t.commitFor(block), 'producer', { now: null });
      return block;
    },
    async pay(amount, payOpts = {}) {
      const coins = payOpts.coins ?? [(await genesisCoins(chain))[0]!];
      return buildTransaction({
        chainId: genesis.chainId,
        coins,
        outputs: [{ amount, lock: pubkeyLock(bob.publicKey) }],
        changeLock: pubkeyLock(alice.publicKey),
        feeRate: payOpts.feeRate ?? 2000n,
        keys: [alice],
      });
    },
    async close() {
      await api.close();
      await t.destroy();
    },
  };
}
