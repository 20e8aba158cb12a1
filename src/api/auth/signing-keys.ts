import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UtxodError } from '../../util/index.ts';
import { writeFileAtomicSync } from '../../util/node.ts';

export class SigningKeyError extends UtxodError<'SIGNING_KEYS_INVALID'> {}

/** EdDSA (Ed25519, asymmetric, published as JWKS) by default; HS256 only when chosen. */
export type TokenAlgorithm = 'EdDSA' | 'HS256';
export const TOKEN_ALGORITHMS: readonly TokenAlgorithm[] = ['EdDSA', 'HS256'];

export interface SigningKey {
  readonly kid: string;
  /** The one algorithm this key signs and verifies with: the verifier pins it per key. */
  readonly alg: TokenAlgorithm;
  /** HS256: 32 random bytes, base64url, the HMAC key. EdDSA: the Ed25519 private key `d`, base64url. */
  readonly secret: string;
  /** EdDSA only: the public key `x`, base64url (what /.well-known/jwks.json publishes). */
  readonly publicKey?: string;
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
  /**
   * Algorithm of new keys; a current key of another one is rotated out at open.
   * Absent: a new file gets EdDSA, an existing one keeps its algorithm.
   */
  readonly algorithm?: TokenAlgorithm;
  readonly now?: () => number;
}

/** The public half of an EdDSA key as a JWK (RFC 8037), for /.well-known/jwks.json. */
export interface PublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** Node KeyObjects of an EdDSA key (signing and verifying). */
export function edKeyObjects(key: SigningKey) {
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: key.publicKey ?? '', d: key.secret };
  return {
    privateKey: createPrivateKey({ key: jwk, format: 'jwk' }),
    publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }),
  };
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
  /** null: keep whatever the current key uses (the CLI must not switch a node's algorithm). */
  private readonly algorithm: TokenAlgorithm | null;
  private readonly now: () => number;
  private keys: SigningKey[];

  private constructor(opts: SigningKeyStoreOptions, keys: SigningKey[]) {
    this.path = opts.path;
    this.overlapMs = opts.overlapMs;
    this.algorithm = opts.algorithm ?? null;
    this.now = opts.now ?? Date.now;
    this.keys = keys;
  }

  /** Loads the key file, creating it with a first key when there is none. */
  static open(opts: SigningKeyStoreOptions): SigningKeyStore {
    const now = opts.now ?? Date.now;
    if (!existsSync(opts.path)) {
      const store = new SigningKeyStore(opts, [newKey(now(), opts.algorithm ?? 'EdDSA')]);
      store.save();
      return store;
    }
    const store = new SigningKeyStore(opts, parseKeyFile(opts.path));
    // Switching algorithm (HS256 -> EdDSA): the old key verifies through the overlap.
    if (store.algorithm !== null && store.current.alg !== store.algorithm) store.rotate();
    else if (store.dropRetired()) store.save();
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

  /** Public JWKs of every EdDSA key still verifying (HS256 keys are secret and never published). */
  jwks(): { keys: PublicJwk[] } {
    return {
      keys: this.list()
        .filter((k) => k.alg === 'EdDSA' && k.publicKey !== undefined)
        .map((k) => ({
          kty: 'OKP',
          crv: 'Ed25519',
          x: k.publicKey!,
          kid: k.kid,
          alg: 'EdDSA',
          use: 'sig',
        })),
    };
  }

  /** Makes a new current key; the old one verifies until now + overlap. */
  rotate(): { current: SigningKey; retired: SigningKey } {
    const now = this.now();
    const previous = this.current;
    const retired: SigningKey = { ...previous, retiresAt: now + this.overlapMs };
    const current = newKey(now, this.algorithm ?? previous.alg);
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
      `${JSON.stringify({ version: 2, keys: this.keys }, null, 2)}\n`,
      0o600,
    );
  }
}

function newKey(now: number, alg: TokenAlgorithm): SigningKey {
  const kid = randomBytes(8).toString('hex');
  if (alg === 'HS256')
    return {
      kid,
      alg,
      secret: randomBytes(32).toString('base64url'),
      createdAt: now,
      retiresAt: null,
    };
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return {
    kid,
    alg,
    secret: String(jwk.d),
    publicKey: String(jwk.x),
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
      !(k['alg'] === 'HS256' || k['alg'] === 'EdDSA') ||
      typeof k['secret'] !== 'string' ||
      !/^[A-Za-z0-9_-]{43}$/.test(k['secret']) ||
      (k['alg'] === 'EdDSA' &&
        (typeof k['publicKey'] !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(k['publicKey']))) ||
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
