import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import {
  accountPath,
  createKeyFile,
  deriveKey,
  mnemonicToSeed,
  NETWORK_HRP,
  readKeyFile,
} from '../../crypto/index.ts';
import { dataPaths, loadGenesis } from '../../node/index.ts';
import { lockToAddress, pubkeyLock } from '../../primitives/index.ts';
import { toHex, writeFileAtomicSync } from '../../util/index.ts';
import { datadirOption, parseCount, print } from '../shared.ts';

/** The public BIP-39 test mnemonic that funds the devnet (genesis/README.md). */
export const DEVNET_MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

function hrpFor(datadir: string): string {
  const paths = dataPaths(datadir);
  return existsSync(paths.genesis)
    ? NETWORK_HRP[loadGenesis(paths).params.network]
    : NETWORK_HRP.devnet;
}

function describeKey(publicKey: Uint8Array, hrp: string, file: string): void {
  print(`file:       ${file}`);
  print(`public key: ${toHex(publicKey)}`);
  print(`address:    ${lockToAddress(pubkeyLock(publicKey), hrp)}`);
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
    .action((opts: { out: string; datadir: string }) => {
      const pair = createKeyFile(opts.out);
      describeKey(pair.publicKey, hrpFor(opts.datadir), opts.out);
    });
  keys
    .command('show')
    .description("print a key file's public key and address (default: this node's validator key)")
    .option('--file <file>', 'key file to show')
    .addOption(datadirOption())
    .action((opts: { file?: string; datadir: string }) => {
      const file = opts.file ?? dataPaths(opts.datadir).validatorKey;
      describeKey(readKeyFile(file).publicKey, hrpFor(opts.datadir), file);
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
    .action((opts: { out: string; index: number; mnemonic: string; datadir: string }) => {
      if (existsSync(opts.out))
        throw new Error(`${opts.out} already exists; refusing to overwrite a key`);
      const key = deriveKey(mnemonicToSeed(opts.mnemonic), accountPath(1, 0, opts.index));
      const doc = {
        type: 'secp256k1',
        publicKey: toHex(key.publicKey),
        privateKey: toHex(key.privateKey),
      };
      writeFileAtomicSync(opts.out, `${JSON.stringify(doc, null, 2)}\n`, 0o600);
      describeKey(key.publicKey, hrpFor(opts.datadir), opts.out);
      print(`path:       ${key.path}`);
    });
}
