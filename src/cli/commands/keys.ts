import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, datadirOption, parseCount, print, requireDatadir } from '../shared.ts';

/** The public BIP-39 test mnemonic that funds the devnet (genesis/README.md). */
export const DEVNET_MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

/** The address prefix of the datadir's network, or the devnet's when there is no data directory yet. */
async function hrpFor(datadir: string): Promise<string> {
  const { NETWORK_HRP } = await import('../../crypto/address.ts');
  const { dataPaths, loadGenesis } = await import('../../node/datadir.ts');
  const paths = dataPaths(datadir);
  return existsSync(paths.genesis)
    ? NETWORK_HRP[loadGenesis(paths).params.network]
    : NETWORK_HRP.devnet;
}

async function describeKey(publicKey: Uint8Array, datadir: string, file: string): Promise<void> {
  const { lockToAddress } = await import('../../primitives/address.ts');
  const { pubkeyLock } = await import('../../primitives/lock.ts');
  const { toHex } = await import('../../util/bytes.ts');
  print(`file:       ${file}`);
  print(`public key: ${toHex(publicKey)}`);
  print(`address:    ${lockToAddress(pubkeyLock(publicKey), await hrpFor(datadir))}`);
}

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('create and inspect secp256k1 key files (mode 0600)');
  keys
    .command('new')
    .description('create a new random key file')
    .requiredOption('--out <file>', 'where to write the key (refuses to overwrite)')
    .addOption(datadirOption())
    .action(async (opts: { out: string; datadir: string }) => {
      const { createKeyFile } = await import('../../crypto/key-file.ts');
      const pair = createKeyFile(opts.out);
      await describeKey(pair.publicKey, opts.datadir, opts.out);
    });
  keys
    .command('show')
    .description("print a key file's public key and address (default: this node's validator key)")
    .option('--file <file>', 'key file to show')
    .addOption(datadirOption())
    .action(async (opts: { file?: string; datadir: string }) => {
      const { readKeyFile } = await import('../../crypto/key-file.ts');
      const { dataPaths } = await import('../../node/datadir.ts');
      if (opts.file === undefined) requireDatadir(opts.datadir);
      const file = opts.file ?? dataPaths(opts.datadir).validatorKey;
      await describeKey(readKeyFile(file).publicKey, opts.datadir, file);
    });
  keys
    .command('derive')
    .description(
      "write the key at m/44'/1'/0'/0/<index> of a BIP-39 mnemonic (default: the devnet's public test mnemonic)",
    )
    .requiredOption('--out <file>', 'where to write the key (refuses to overwrite)')
    .option('--index <n>', 'address index', parseCount('--index'), 0)
    .option(
      '--mnemonic <words>',
      'BIP-39 mnemonic (env UTXOD_MNEMONIC)',
      process.env['UTXOD_MNEMONIC'] ?? DEVNET_MNEMONIC,
    )
    .addOption(datadirOption())
    .action(async (opts: { out: string; index: number; mnemonic: string; datadir: string }) => {
      if (existsSync(opts.out))
        throw new CliError(
          'USAGE',
          `--out ${opts.out} already exists; refusing to overwrite a key (choose another file)`,
        );
      const { accountPath, deriveKey, mnemonicToSeed } = await import('../../crypto/hd-keys.ts');
      const { writeFileAtomicSync } = await import('../../util/fs.ts');
      const { toHex } = await import('../../util/bytes.ts');
      const key = deriveKey(mnemonicToSeed(opts.mnemonic), accountPath(1, 0, opts.index));
      const doc = {
        type: 'secp256k1',
        publicKey: toHex(key.publicKey),
        privateKey: toHex(key.privateKey),
      };
      writeFileAtomicSync(opts.out, `${JSON.stringify(doc, null, 2)}\n`, 0o600);
      await describeKey(key.publicKey, opts.datadir, opts.out);
      print(`path:       ${key.path}`);
    });
}
