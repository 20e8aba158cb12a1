import { existsSync, readFileSync, statSync } from 'node:fs';
import { fromHex, toHex, UtxodError } from '../util/index.ts';
import { writeFileAtomicSync } from '../util/node.ts';
import { generatePrivateKey, getPublicKey, isValidPrivateKey } from './signer.ts';

export class KeyFileError extends UtxodError<'INVALID_KEY_FILE'> {
  constructor(path: string, problem: string) {
    super('INVALID_KEY_FILE', `key file ${path}: ${problem}`, { path });
  }
}

export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Writes a new key file readable by its owner only (0600); refuses to overwrite. */
export function createKeyFile(path: string): KeyPair {
  if (existsSync(path)) throw new KeyFileError(path, 'already exists; refusing to overwrite a key');
  const privateKey = generatePrivateKey();
  const pair = { privateKey, publicKey: getPublicKey(privateKey) };
  const doc = {
    type: 'secp256k1',
    publicKey: toHex(pair.publicKey),
    privateKey: toHex(privateKey),
  };
  writeFileAtomicSync(path, `${JSON.stringify(doc, null, 2)}\n`, 0o600);
  return pair;
}

export function readKeyFile(path: string): KeyPair {
  if (!existsSync(path))
    throw new KeyFileError(path, 'does not exist (create one with `utxod keys new`)');
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new KeyFileError(
      path,
      `is readable by others (mode ${mode.toString(8)}); run chmod 600 on it`,
    );
  }
  let doc: { type?: unknown; privateKey?: unknown; publicKey?: unknown };
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new KeyFileError(path, 'is not valid JSON');
  }
  if (
    doc.type !== 'secp256k1' ||
    typeof doc.privateKey !== 'string' ||
    typeof doc.publicKey !== 'string'
  ) {
    throw new KeyFileError(path, 'must have type "secp256k1", privateKey and publicKey in hex');
  }
  let privateKey: Uint8Array;
  try {
    privateKey = fromHex(doc.privateKey, 32);
  } catch {
    throw new KeyFileError(path, 'privateKey must be 32 bytes of lower-case hex');
  }
  if (!isValidPrivateKey(privateKey))
    throw new KeyFileError(path, 'privateKey is not a valid secp256k1 key');
  const publicKey = getPublicKey(privateKey);
  if (toHex(publicKey) !== doc.publicKey)
    throw new KeyFileError(path, 'publicKey does not match privateKey');
  return { privateKey, publicKey };
}
