/** A real P2PHost over a real test chain (LevelDB in a temp dir) on loopback, for the attack suite. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockImporter } from '../../src/chain/block-importer.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { ParallelVerifier } from '../../src/crypto/verify-pool.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { Mempool } from '../../src/mempool/mempool.ts';
import { P2PHost, type P2POptions } from '../../src/p2p/host.ts';
import type { StatusMessage } from '../../src/p2p/messages.ts';
import { openTestChain, type TestChain, testGenesis, testKey } from './chain-fixture.ts';

export interface HostFixture {
  readonly host: P2PHost;
  readonly chain: TestChain;
  readonly importer: BlockImporter;
  readonly mempool: Mempool;
  /** The host's own status, for test peers that want to pass the handshake. */
  status(): StatusMessage;
  close(): Promise<void>;
}

export async function startTestHost(
  opts: Partial<P2POptions> = {},
  chainOpts: { blocks?: number } = {},
): Promise<HostFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'utxod-sec-p2p-'));
  const validator = testKey(1);
  const genesis = testGenesis({ validator, funded: [testKey(2)] });
  const chain = await openTestChain({ genesis, validator, dir: join(dir, 'chain') });
  for (let i = 0; i < (chainOpts.blocks ?? 0); i++) await chain.produce();
  const verifier = await ParallelVerifier.init({ workers: 0 });
  const signatures = new SignatureChecker({ verifier, cache: null });
  const mempool = new Mempool(
    { maxBytes: 1 << 20, minRelayFeeRate: 1000n },
    {
      params: chain.chain.params,
      chainIdHash: chain.chain.chainIdHash,
      chain: chain.chain,
      signatures,
    },
  );
  const importer = new BlockImporter({
    chain: chain.chain,
    mempool,
    metrics: null,
    logger: silentLogger(),
  });
  const host = await P2PHost.init(
    {
      host: '127.0.0.1',
      port: 0,
      bootstrap: [],
      maxConnections: 50,
      maxInboundPerIp: 50,
      banDurationMs: 60_000,
      identityPath: join(dir, 'p2p.key'),
      ...opts,
    },
    {
      logger: silentLogger(),
      db: chain.db,
      chain: chain.chain,
      mempool,
      importer,
      metricsRegistry: null,
    },
  );
  await host.start();
  return {
    host,
    chain,
    importer,
    mempool,
    status: () => host.localStatus(),
    async close() {
      await host.close();
      await verifier.close();
      await chain.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
