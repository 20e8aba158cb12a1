/**
 * `utxod restore`: a backup becomes a data directory only after its checksum,
 * its chain (the genesis it carries, and the one already in the target if
 * the operator ran `utxod init --genesis`), and a re-verification of the
 * restored chain all pass. The database is written to a staging directory
 * and renamed into place; a failed verification removes it again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import {
  buildGenesisBlock,
  Chain,
  parseGenesis,
  type VerifyChainResult,
  verifyChain,
} from '../chain/index.ts';
import { SignatureChecker } from '../consensus/index.ts';
import { ParallelVerifier } from '../crypto/node.ts';
import { type BatchOp, Database, metaKey } from '../storage/index.ts';
import { asError, bytesEqual, toHex } from '../util/index.ts';
import { BackupError, type BackupHeader, openBackup } from './backup.ts';

export interface RestoreResult {
  readonly header: BackupHeader;
  readonly entries: number;
  readonly files: string[];
  readonly verified: VerifyChainResult;
}

const GENESIS_FILE = 'genesis.json';

export async function restoreBackup(
  opts: { file: string; datadir: string; chainDir: string },
  modules: { logger: Logger },
): Promise<RestoreResult> {
  const { datadir, chainDir } = opts;
  if (existsSync(chainDir))
    throw new BackupError(
      'BACKUP_TARGET_NOT_EMPTY',
      `${chainDir} exists: restore into a new data directory (or one only initialised with utxod init)`,
    );
  const backup = await openBackup(opts.file);
  const staging = `${chainDir}.restore`;
  const written: string[] = [];
  let entries = 0;
  try {
    await rm(staging, { recursive: true, force: true });
    const existingGenesis = join(datadir, GENESIS_FILE);
    const expected = existsSync(existingGenesis)
      ? await genesisHashOf(readFileSync(existingGenesis, 'utf8'), existingGenesis)
      : null;
    const files: Array<{ name: string; bytes: Uint8Array }> = [];
    let db: Database | null = null;
    let ops: BatchOp[] = [];
    for await (const rec of backup.records()) {
      if (rec.kind === 'file') {
        if (db !== null)
          throw new BackupError('BACKUP_DAMAGED', 'a file after the database entries');
        files.push(rec.file);
        continue;
      }
      if (db === null) {
        await checkChain(backup.header, files, expected);
        await mkdir(dirname(staging), { recursive: true });
        db = await Database.open({ path: staging, syncWrites: false });
      }
      ops.push({ type: 'put', key: rec.key, value: rec.value });
      entries++;
      if (ops.length >= 10_000) {
        await db.write(ops);
        ops = [];
      }
    }
    if (db === null) throw new BackupError('BACKUP_DAMAGED', 'the backup holds no database');
    await db.write(ops);
    const storedGenesis = await db.get(metaKey('genesis'));
    await db.close();
    if (storedGenesis === undefined || toHex(storedGenesis) !== backup.header.genesisHash)
      throw new BackupError(
        'BACKUP_DAMAGED',
        'the database is not of the genesis the header names',
      );
    await rename(staging, chainDir);
    for (const file of files) {
      if (file.name === GENESIS_FILE && expected !== null) continue;
      const target = join(datadir, ...file.name.split('/'));
      const secret = file.name.startsWith('keys/') || file.name === 'signer-state.json';
      await mkdir(dirname(target), { recursive: true, mode: secret ? 0o700 : 0o755 });
      await writeFile(target, file.bytes, { mode: secret ? 0o600 : 0o644, flag: 'wx' });
      if (secret) await chmod(target, 0o600);
      written.push(file.name);
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    await backup.close();
    throw error;
  }
  await backup.close();
  let verified: VerifyChainResult;
  try {
    verified = await verifyRestored(datadir, chainDir, modules.logger);
  } catch (error) {
    await rm(chainDir, { recursive: true, force: true });
    throw new BackupError(
      'BACKUP_VERIFY_FAILED',
      `the restored chain does not verify (${asError(error).message}); nothing was kept`,
      {},
      { cause: error },
    );
  }
  return { header: backup.header, entries, files: written, verified };
}

async function checkChain(
  header: BackupHeader,
  files: ReadonlyArray<{ name: string; bytes: Uint8Array }>,
  expected: string | null,
): Promise<void> {
  const genesis = files.find((f) => f.name === GENESIS_FILE);
  if (genesis === undefined)
    throw new BackupError('BACKUP_DAMAGED', 'the backup has no genesis.json');
  const carried = await genesisHashOf(new TextDecoder().decode(genesis.bytes), 'the backup');
  if (carried !== header.genesisHash)
    throw new BackupError('BACKUP_DAMAGED', 'the genesis file does not match the backup header');
  if (expected !== null && expected !== carried)
    throw new BackupError(
      'BACKUP_FOREIGN',
      `the backup is of chain ${header.chainId} (genesis ${carried}), this data directory is of genesis ${expected}`,
    );
}

async function genesisHashOf(text: string, where: string): Promise<string> {
  try {
    return toHex((await buildGenesisBlock(parseGenesis(text))).block.hash);
  } catch (error) {
    throw new BackupError(
      'BACKUP_DAMAGED',
      `genesis of ${where} is invalid: ${asError(error).message}`,
    );
  }
}

/** verify-chain --full (from genesis, every signature, every coin rehashed); from the snapshot checkpoint on a chain that began at one. */
async function verifyRestored(datadir: string, chainDir: string, logger: Logger) {
  const genesis = parseGenesis(readFileSync(join(datadir, GENESIS_FILE), 'utf8'));
  const db = await Database.open({ path: chainDir, syncWrites: true });
  const verifier = await ParallelVerifier.init({ workers: 1 });
  try {
    const signatures = new SignatureChecker({ verifier, cache: null });
    const chain = await Chain.init(
      { utxoCacheBytes: 64 << 20 },
      { db, genesis, signatures, logger },
    );
    if (!bytesEqual(chain.genesisHash, (await buildGenesisBlock(genesis)).block.hash))
      throw new BackupError('BACKUP_FOREIGN', 'genesis mismatch');
    const full = (await chain.earliestHeight()) === 0;
    return await verifyChain(chain, { full, scanUtxos: true, signatures });
  } finally {
    await verifier.close();
    await db.close();
  }
}
