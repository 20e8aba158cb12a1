import type { Command } from 'commander';
import { CliError, datadirOption, parseCount, print, requireDatadir } from '../shared.ts';

interface TrustFlags {
  datadir: string;
  trustedHeight?: number;
  trustedHash?: string;
}

export function registerSnapshot(program: Command): void {
  const snapshot = program
    .command('snapshot')
    .description('create, list, export and import chain snapshots (docs/operations.md)');

  snapshot
    .command('create')
    .description(
      'write a snapshot of the chain at its tip (the node must be stopped; a running node writes them every snapshotInterval blocks)',
    )
    .addOption(datadirOption())
    .option('--chunk-bytes <n>', 'chunk size in bytes (default 1 MiB)', parseCount('--chunk-bytes'))
    .action(async (opts: { datadir: string; chunkBytes?: number }) => {
      const { openChainOffline } = await import('../offline.ts');
      const { silentLogger } = await import('../../logger/index.ts');
      const { SnapshotStore } = await import('../../snapshot/index.ts');
      const { dataPaths } = await import('../../node/datadir.ts');
      const offline = await openChainOffline(opts.datadir, silentLogger());
      try {
        const store = new SnapshotStore({ dir: dataPaths(offline.config.datadir).snapshots });
        const view = offline.db.readView();
        let result: Awaited<ReturnType<typeof store.create>>;
        try {
          result = await store.create(view, offline.chain, {
            ...(opts.chunkBytes === undefined ? {} : { chunkBytes: opts.chunkBytes }),
          });
        } finally {
          await view.close();
        }
        const pruned = await store.prune(offline.config.snapshotKeep);
        print(
          `snapshot ${result.height} ${result.blockHash}: ${result.coins} coins, ${result.chunks} chunks, ${result.bytes} bytes in ${(result.durationMs / 1000).toFixed(2)} s`,
        );
        if (pruned.length > 0) print(`pruned snapshots at heights ${pruned.join(', ')}`);
      } finally {
        await offline.close();
      }
    });

  snapshot
    .command('list')
    .description('list the snapshots in the data directory, newest first')
    .addOption(datadirOption())
    .action(async (opts: { datadir: string }) => {
      requireDatadir(opts.datadir);
      const { SnapshotStore } = await import('../../snapshot/index.ts');
      const { dataPaths } = await import('../../node/datadir.ts');
      const list = await new SnapshotStore({ dir: dataPaths(opts.datadir).snapshots }).list();
      if (list.length === 0) print('no snapshots');
      for (const s of list)
        print(
          `${s.height}  block ${s.blockHash}  id ${s.id}  coins ${s.coins}  chunks ${s.chunks}  bytes ${s.bytes}`,
        );
    });

  snapshot
    .command('export')
    .description('write a snapshot (the newest, or --height) to one file')
    .argument('<file>', 'file to create (must not exist)')
    .addOption(datadirOption())
    .option('--height <height>', 'which snapshot', parseCount('--height'))
    .action(async (file: string, opts: { datadir: string; height?: number }) => {
      requireDatadir(opts.datadir);
      const { SnapshotStore, exportSnapshot } = await import('../../snapshot/index.ts');
      const { dataPaths } = await import('../../node/datadir.ts');
      const store = new SnapshotStore({ dir: dataPaths(opts.datadir).snapshots });
      const height = opts.height ?? (await store.heights())[0];
      if (height === undefined)
        throw new CliError(
          'USAGE',
          `no snapshots in ${opts.datadir}: run \`utxod snapshot create\` first`,
        );
      const bytes = await exportSnapshot(store, height, file);
      print(`exported snapshot ${height} to ${file} (${bytes} bytes)`);
    });

  snapshot
    .command('import')
    .description(
      'verify a snapshot file against the genesis and build the chain from it (empty data directory only)',
    )
    .argument('<file>', 'snapshot file from `utxod snapshot export`')
    .addOption(datadirOption())
    .option(
      '--trusted-height <height>',
      'accept only the snapshot of this block (needed once the validator set changed since genesis)',
      parseCount('--trusted-height'),
    )
    .option('--trusted-hash <hex>', 'hash of the block at --trusted-height')
    .action(async (file: string, opts: TrustFlags) => {
      requireDatadir(opts.datadir);
      const { existsSync } = await import('node:fs');
      const { loadConfig } = await import('../../config/index.ts');
      const { dataPaths, loadGenesis } = await import('../../node/datadir.ts');
      const { buildGenesisBlock } = await import('../../chain/genesis.ts');
      const { chainIdHash } = await import('../../primitives/sighash.ts');
      const { ParallelVerifier } = await import('../../crypto/verify-pool.ts');
      const { fromHex } = await import('../../util/bytes.ts');
      const { openSnapshotFile, rebuildChain, verifyManifest } = await import(
        '../../snapshot/index.ts'
      );
      const { progressBar } = await import('../progress.ts');
      if ((opts.trustedHeight === undefined) !== (opts.trustedHash === undefined))
        throw new CliError('USAGE', '--trusted-height and --trusted-hash go together');
      const config = loadConfig(opts.datadir);
      const paths = dataPaths(config.datadir);
      if (existsSync(paths.chainDb))
        throw new CliError(
          'USAGE',
          `${paths.chainDb} exists: import into a data directory whose chain was never started (utxod init)`,
        );
      const genesis = loadGenesis(paths);
      const snap = await openSnapshotFile(file);
      const verifier = await ParallelVerifier.init({ workers: 0 });
      try {
        const started = performance.now();
        await verifyManifest(snap.manifest, {
          chainIdHash: chainIdHash(genesis.chainId),
          genesisValidators: genesis.validators,
          trusted:
            opts.trustedHeight === undefined || opts.trustedHash === undefined
              ? null
              : { height: opts.trustedHeight, hash: fromHex(opts.trustedHash, 32) },
          verifier,
        });
        const bar = progressBar('importing');
        await rebuildChain(
          { chainDir: paths.chainDb },
          {
            manifest: snap.manifest,
            genesisHash: (await buildGenesisBlock(genesis)).block.hash,
            fetchChunk: (i) => snap.chunk(i),
            onProgress: (p) => bar(p.chunksDone, p.chunksTotal),
          },
        );
        bar.finish();
        print(
          `imported snapshot ${snap.manifest.height}: ${snap.manifest.coinCount} coins verified against the block's utxoRoot in ${((performance.now() - started) / 1000).toFixed(2)} s`,
        );
        print(
          `the chain now starts at height ${snap.manifest.height}; there is no history below it`,
        );
      } finally {
        await verifier.close();
        await snap.close();
      }
    });
}
