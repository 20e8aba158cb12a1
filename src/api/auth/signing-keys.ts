import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UtxodError, writeFileAtomicSync } from '../../util/index.ts';

export class SigningKeyError extends UtxodError<'SIGNING_KEYS_INVALID'> {}

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'HS256';
  /** 32 random bytes, base64url: the HMAC key. */
  readonly secret: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** null for the current key; for a rotated-out key, when it stops verifying. */
  readonly retiresAt: number | null;
}

export interface SigningKeyStoreOptions {
  /** The JSON file holding the keys (mode 0600). */
  readonly path: string;
  /** How long a rotated-out key keeps verifying tokens it signed. */
  readonly overlapMs: number;
  readonly now?: () => number;
}

/** Where a data directory keeps the API's token signing keys. */
export function signingKeysPath(datadir: string): string {
  return join(datadir, 'keys', 'api-signing-keys.json');
}

/**
 * The HS256 keys that sign and verify access tokens, kept in a file of the
 * data directory (not in LevelDB) so `utxod token issue` can mint tokens while
 * the node holds the database lock. Exactly one key is current; a rotation
 * keeps the previous one verifying for `overlapMs`, so tokens already handed
 * out survive a rotation, then drops it.
 */
export class SigningKeyStore {
  private readonly path: string;
  private readonly overlapMs: number;
  private readonly now: () => number;
  private keys: SigningKey[];

  private constructor(opts: SigningKeyStoreOptions, keys: SigningKey[]) {
    this.path = opts.path;
    this.overlapMs = opts.overlapMs;
    this.now = opts.now ?? Date.now;
    this.keys = keys;
  }

  /** Loads the key file, creating it with a first key when there is none. */
  static open(opts: SigningKeyStoreOptions): SigningKeyStore {
    const now = opts.now ?? Date.now;
    if (!existsSync(opts.path)) {
      const store = new SigningKeyStore(opts, [newKey(now())]);
      store.save();
      return store;
    }
    const store = new SigningKeyStore(opts, parseKeyFile(opts.path));
    if (store.dropRetired()) store.save();
    return store;
  }

  get current(): SigningKey {
    const key = this.keys.find((k) => k.retiresAt === null);
    if (key === undefined) throw new SigningKeyError('SIGNING_KEYS_INVALID', 'no current key');
    return key;
  }

  /** The key with this id if it may still verify tokens now. */
  find(kid: string): SigningKey | undefined {
    const key = this.keys.find((k) => k.kid === kid);
    if (key === undefined) return undefined;
    if (key.retiresAt !== null && this.now() >= key.retiresAt) return undefined;
    return key;
  }

  /** Every key still verifying, current first. */
  list(): readonly SigningKey[] {
    const now = this.now();
    return this.keys
      .filter((k) => k.retiresAt === null || now < k.retiresAt)
      .sort((a, b) => (a.retiresAt === null ? -1 : b.retiresAt === null ? 1 : 0));
  }

  /** Makes a new current key; the old one verifies until now + overlap. */
  rotate(): { current: SigningKey; retired: SigningKey } {
    const now = this.now();
    const previous = this.current;
    const retired: SigningKey = { ...previous, retiresAt: now + this.overlapMs };
    const current = newKey(now);
    this.keys = [current, retired, ...this.keys.filter((k) => k.kid !== previous.kid)];
    this.dropRetired();
    this.save();
    return { current, retired };
  }

  private dropRetired(): boolean {
    const now = this.now();
    const before = this.keys.length;
    this.keys = this.keys.filter((k) => k.retiresAt === null || now < k.retiresAt);
    return this.keys.length !== before;
  }

  private save(): void {
    const dir = dirname(this.path);
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    }
    writeFileAtomicSync(
      this.path,
      `${JSON.stringify({ version: 1, keys: this.keys }, null, 2)}\n`,
      0o600,
    );
  }
}

function newKey(now: number): SigningKey {
  return {
    kid: randomBytes(8).toString('hex'),
    alg: 'HS256',
    secret: randomBytes(32).toString('base64url'),
    createdAt: now,
    retiresAt: null,
  };
}

function parseKeyFile(path: string): SigningKey[] {
  const fail = (why: string): never => {
    throw new SigningKeyError('SIGNING_KEYS_INVALID', `${path}: ${why}`, { path });
  };
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`);
  }
  const keys = (doc as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return fail('no "keys" array');
  const out: SigningKey[] = [];
  for (const raw of keys as unknown[]) {
    const k = raw as Record<string, unknown>;
    if (
      typeof k['kid'] !== 'string' ||
      !/^[0-9a-f]{16}$/.test(k['kid']) ||
      k['alg'] !== 'HS256' ||
      typeof k['secret'] !== 'string' ||
      !/^[A-Za-z0-9_-]{43}$/.test(k['secret']) ||
      typeof k['createdAt'] !== 'number' ||
      !(k['retiresAt'] === null || typeof k['retiresAt'] === 'number')
    ) {
      fail('a key entry is malformed');
    }
    out.push(k as unknown as SigningKey);
  }
  if (out.filter((k) => k.retiresAt === null).length !== 1)
    fail('exactly one key must be current (retiresAt null)');
  return out;
}
