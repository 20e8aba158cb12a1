import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { sha256 } from '../../crypto/index.ts';
import type { BatchOp, Database } from '../../storage/index.ts';
import { Bucket, bucketKey } from '../../storage/index.ts';
import { asError, fromHex, KeyedSerialQueue, SerialQueue, toHex } from '../../util/index.ts';
import { AuthError } from './errors.ts';
import { LockoutTracker } from './lockout.ts';
import type { Role } from './roles.ts';
import { type SigningKey, SigningKeyStore, type TokenAlgorithm } from './signing-keys.ts';
import { type IssuedToken, TokenCodec, type VerifiedToken } from './tokens.ts';

/** Sub-buckets of Bucket.auth (the signing keys live in a file, see signing-keys.ts). */
const Sub = { apiKey: 0x01, refresh: 0x02, revoked: 0x03 } as const;

const API_KEY_RE = /^utxod_ak_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** Subjects of tokens minted without an API key (`utxod token issue --subject`). */
export const SUBJECT_RE = /^[A-Za-z0-9._:@-]{1,64}$/;
const REFRESH_RE = /^utxod_rt_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export interface AuthServiceOptions {
  /** The JSON file of token signing keys (see signingKeysPath). */
  readonly signingKeysPath: string;
  /** Algorithm of new token keys (default EdDSA; HS256 only when chosen). */
  readonly tokenAlgorithm?: TokenAlgorithm;
  readonly signingKeyOverlapMs: number;
  readonly accessTokenTtlMs: number;
  readonly refreshTokenTtlMs: number;
  readonly lockout: {
    readonly maxAttempts: number;
    readonly windowMs: number;
    readonly durationMs: number;
  };
  /** scrypt cost for new API keys: N = 2^logN (r = 8, p = 1). Stored per key, so it can change. */
  readonly scryptLogN: number;
  /** How often expired revocations and refresh tokens are deleted; 0 never (call purgeExpired). */
  readonly purgeIntervalMs?: number;
  readonly now?: () => number;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly role: Role;
  readonly label: string;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly kdf: {
    readonly alg: 'scrypt';
    readonly N: number;
    readonly r: number;
    readonly p: number;
    readonly dkLen: number;
    readonly salt: string;
  };
  readonly hash: string;
}

interface RefreshRecord {
  readonly id: string;
  readonly familyId: string;
  readonly hash: string;
  readonly subject: string;
  readonly role: Role;
  readonly apiKeyId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

export interface TokenPair {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
  readonly refreshToken: string;
  /** Milliseconds since the epoch. */
  readonly refreshExpiresAt: number;
  readonly role: Role;
  readonly subject: string;
  readonly tokenId: string;
}

/**
 * Credentials of the HTTP API: signing keys and access tokens, API keys
 * (stored only as scrypt hashes), rotating refresh tokens with reuse
 * detection, the revocation list, and lockout after repeated failures.
 * Mutations that must not interleave (a refresh racing its own reuse) run
 * one at a time.
 */
export class AuthService {
  readonly codec: TokenCodec;
  readonly keys: SigningKeyStore;
  private readonly opts: AuthServiceOptions;
  private readonly db: Database;
  private readonly logger: Logger | null;
  private readonly now: () => number;
  private readonly lockout: LockoutTracker;
  private readonly apiKeys: Map<string, ApiKeyRecord>;
  /** Revoked token ids and refresh-family ids -> when the entry may be forgotten (ms). */
  private readonly revoked: Map<string, number>;
  private readonly queue = new SerialQueue();
  /** Per client address: its API-key hash checks run one after another, never ahead of other clients'. */
  private readonly hashQueues = new KeyedSerialQueue<string>();
  private purgeTimer: NodeJS.Timeout | null = null;

  private constructor(
    opts: AuthServiceOptions,
    modules: { db: Database; logger: Logger | null },
    state: {
      codec: TokenCodec;
      keys: SigningKeyStore;
      apiKeys: Map<string, ApiKeyRecord>;
      revoked: Map<string, number>;
    },
  ) {
    this.opts = opts;
    this.db = modules.db;
    this.logger = modules.logger;
    this.now = opts.now ?? Date.now;
    this.codec = state.codec;
    this.keys = state.keys;
    this.apiKeys = state.apiKeys;
    this.revoked = state.revoked;
    this.lockout = new LockoutTracker({ ...opts.lockout, now: this.now });
  }

  static async open(
    opts: AuthServiceOptions,
    modules: { db: Database; logger?: Logger },
  ): Promise<AuthService> {
    const now = opts.now ?? Date.now;
    const keys = SigningKeyStore.open({
      path: opts.signingKeysPath,
      overlapMs: opts.signingKeyOverlapMs,
      algorithm: opts.tokenAlgorithm ?? 'EdDSA',
      now,
    });
    const codec = await TokenCodec.create({ now }, { keys });
    const apiKeys = new Map<string, ApiKeyRecord>();
    for await (const [, value] of modules.db.range(subKey(Sub.apiKey), subKey(Sub.apiKey + 1))) {
      const record = JSON.parse(Buffer.from(value).toString('utf8')) as ApiKeyRecord;
      apiKeys.set(record.id, record);
    }
    const revoked = new Map<string, number>();
    for await (const [key, value] of modules.db.range(
      subKey(Sub.revoked),
      subKey(Sub.revoked + 1),
    )) {
      revoked.set(Buffer.from(key.subarray(2)).toString('utf8'), readU64(value));
    }
    const service = new AuthService(
      opts,
      { db: modules.db, logger: modules.logger ?? null },
      { codec, keys, apiKeys, revoked },
    );
    await service.purgeExpired();
    const interval = opts.purgeIntervalMs ?? 60_000;
    if (interval > 0) {
      service.purgeTimer = setInterval(() => {
        service.purgeExpired().catch((error: unknown) => {
          service.logger?.error({ err: asError(error) }, 'purging expired auth records failed');
        });
      }, interval);
      service.purgeTimer.unref();
    }
    return service;
  }

  close(): void {
    if (this.purgeTimer !== null) clearInterval(this.purgeTimer);
    this.purgeTimer = null;
  }

  /** Verifies an access token and that neither it, its family nor its API key was revoked. */
  authenticate(token: string): VerifiedToken {
    const verified = this.codec.verify(token);
    if (this.isRevoked(verified.tokenId))
      throw new AuthError('AUTH_TOKEN_REVOKED', 'the token was revoked', { reason: 'token' });
    if (verified.familyId !== null && this.isRevoked(verified.familyId))
      throw new AuthError('AUTH_TOKEN_REVOKED', 'the token was revoked', { reason: 'family' });
    if (verified.apiKeyId !== null && !this.apiKeys.has(verified.apiKeyId))
      throw new AuthError('AUTH_TOKEN_REVOKED', 'the API key of this token was deleted', {
        reason: 'api-key',
      });
    return verified;
  }

  /** Mints an access token without an API key (the offline CLI, tests). */
  issueAccessToken(
    subject: string,
    role: Role,
    ttlMs = this.opts.accessTokenTtlMs,
    opts: { notBefore?: number } = {},
  ): IssuedToken {
    // `key:` subjects belong to API keys (revocation and audit follow the key).
    if (!SUBJECT_RE.test(subject) || subject.startsWith('key:'))
      throw new AuthError(
        'AUTH_INVALID_SUBJECT',
        'a token subject is 1-64 characters [A-Za-z0-9._:@-] and does not start with "key:"',
        { subject: subject.slice(0, 80) },
      );
    return this.codec.sign({ subject, role, ttlMs, ...opts });
  }

  // --- API keys -------------------------------------------------------------

  /** Creates an API key; the secret is returned here once and stored only as a hash. */
  async createApiKey(input: {
    role: Role;
    label?: string;
    createdBy: string;
  }): Promise<{ key: string; record: ApiKeyRecord }> {
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const salt = randomBytes(16);
    const kdf = { alg: 'scrypt', N: 2 ** this.opts.scryptLogN, r: 8, p: 1, dkLen: 32 } as const;
    const hash = await scryptHash(secret, salt, kdf);
    const record: ApiKeyRecord = {
      id,
      role: input.role,
      label: input.label ?? '',
      createdAt: this.now(),
      createdBy: input.createdBy,
      kdf: { ...kdf, salt: toHex(salt) },
      hash: toHex(hash),
    };
    await this.db.write([{ type: 'put', key: apiKeyKey(id), value: json(record) }]);
    this.apiKeys.set(id, record);
    return { key: `utxod_ak_${id}_${secret}`, record };
  }

  listApiKeys(): ApiKeyRecord[] {
    return [...this.apiKeys.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Deletes an API key: its refresh tokens stop working, and so do access tokens issued with it. */
  async deleteApiKey(id: string): Promise<ApiKeyRecord> {
    const record = this.apiKeys.get(id);
    if (record === undefined) throw new AuthError('API_KEY_NOT_FOUND', `no API key ${id}`, { id });
    await this.db.write([{ type: 'del', key: apiKeyKey(id) }]);
    this.apiKeys.delete(id);
    return record;
  }

  /**
   * Exchanges an API key for an access token and a new refresh-token family.
   * Failures count against the (key, client address) pair and the address,
   * never against the key alone: the key id is not secret, so a third party
   * guessing at it must lock out only itself. The scrypt check runs in the
   * thread pool, outside the service's serial queue, and each address's
   * checks run one at a time, so one client's flood of attempts waits behind
   * itself rather than delaying other clients' logins.
   */
  async exchangeApiKey(apiKey: string, clientIp: string): Promise<TokenPair> {
    const match = API_KEY_RE.exec(apiKey);
    const ipSubject = `ip:${clientIp}`;
    const subjects = match === null ? [ipSubject] : [`pair:${match[1]}|${clientIp}`, ipSubject];
    this.refuseIfLocked(subjects);
    const record = match === null ? undefined : this.apiKeys.get(match[1]!);
    const ok =
      match !== null &&
      record !== undefined &&
      (await this.perClient(clientIp, () => {
        // Locked while it waited in its own queue: do not spend the hash.
        this.refuseIfLocked(subjects);
        return this.checkApiKey(record, match[2]!);
      }));
    if (!ok || record === undefined)
      throw this.credentialFailure(subjects, 'AUTH_INVALID_CREDENTIALS', 'invalid API key');
    // Only the pair's count: a client holding one good key must not be able
    // to wipe its address's record of guesses at other keys.
    this.lockout.succeed([subjects[0]!]);
    return this.serial(async () => {
      if (!this.apiKeys.has(record.id))
        throw new AuthError('AUTH_INVALID_CREDENTIALS', 'invalid API key');
      return this.issuePair({
        subject: `key:${record.id}`,
        role: record.role,
        apiKeyId: record.id,
        familyId: randomBytes(16).toString('hex'),
      });
    });
  }

  /**
   * Rotates a refresh token: the presented one is spent and a new one of the
   * same family returned. A spent token coming back means it was copied, so
   * the whole family (and the access tokens issued through it) is revoked.
   */
  refresh(refreshToken: string, clientIp: string): Promise<TokenPair> {
    return this.serial(async () => {
      const subjects = [`ip:${clientIp}`];
      this.refuseIfLocked(subjects);
      const match = REFRESH_RE.exec(refreshToken);
      const raw = match === null ? undefined : await this.db.get(refreshKey(match[1]!));
      const record =
        raw === undefined
          ? undefined
          : (JSON.parse(Buffer.from(raw).toString('utf8')) as RefreshRecord);
      if (match === null || record === undefined || !hashMatches(record.hash, match[2]!)) {
        throw this.credentialFailure(subjects, 'AUTH_REFRESH_INVALID', 'invalid refresh token');
      }
      if (this.isRevoked(record.familyId))
        throw new AuthError('AUTH_TOKEN_REVOKED', 'this refresh token family was revoked', {
          reason: 'family',
        });
      if (record.usedAt !== null) {
        await this.revokeIds([[record.familyId, this.now() + this.opts.refreshTokenTtlMs]]);
        throw new AuthError(
          'AUTH_REFRESH_REUSED',
          'this refresh token was already used; its whole family is now revoked',
          { familyId: record.familyId },
        );
      }
      if (record.expiresAt <= this.now())
        throw new AuthError('AUTH_REFRESH_EXPIRED', 'the refresh token has expired');
      if (!this.apiKeys.has(record.apiKeyId))
        throw new AuthError('AUTH_TOKEN_REVOKED', 'the API key of this token was deleted', {
          reason: 'api-key',
        });
      const spent: RefreshRecord = { ...record, usedAt: this.now() };
      return this.issuePair(
        {
          subject: record.subject,
          role: record.role,
          apiKeyId: record.apiKeyId,
          familyId: record.familyId,
        },
        [{ type: 'put', key: refreshKey(record.id), value: json(spent) }],
      );
    });
  }

  /**
   * Revokes an access token (by its jti, until it would have expired) or a
   * refresh token (its whole family). Possession of a token is what allows
   * revoking it, as in RFC 7009; an unrecognised token revokes nothing.
   */
  revoke(
    token: string,
  ): Promise<{ revoked: boolean; kind: 'access' | 'refresh' | null; subject: string | null }> {
    return this.serial(async () => {
      const match = REFRESH_RE.exec(token);
      if (match !== null) {
        const raw = await this.db.get(refreshKey(match[1]!));
        if (raw === undefined) return { revoked: false, kind: null, subject: null };
        const record = JSON.parse(Buffer.from(raw).toString('utf8')) as RefreshRecord;
        if (!hashMatches(record.hash, match[2]!))
          return { revoked: false, kind: null, subject: null };
        await this.revokeIds([[record.familyId, this.now() + this.opts.refreshTokenTtlMs]]);
        return { revoked: true, kind: 'refresh', subject: record.subject };
      }
      let verified: VerifiedToken;
      try {
        verified = this.codec.verify(token, { ignoreExpiry: true });
      } catch {
        return { revoked: false, kind: null, subject: null };
      }
      const until = verified.expiresAt * 1000;
      if (until > this.now()) await this.revokeIds([[verified.tokenId, until]]);
      return { revoked: true, kind: 'access', subject: verified.subject };
    });
  }

  /** Revokes a token id (jti) or family id until `untilMs`. */
  revokeId(id: string, untilMs: number): Promise<void> {
    return this.serial(() => this.revokeIds([[id, untilMs]]));
  }

  isRevoked(id: string): boolean {
    const until = this.revoked.get(id);
    return until !== undefined && until > this.now();
  }

  rotateSigningKey(): { current: SigningKey; retired: SigningKey } {
    return this.keys.rotate();
  }

  /** Deletes revocations and refresh tokens that can no longer matter. */
  purgeExpired(): Promise<{ revocations: number; refreshTokens: number }> {
    return this.serial(async () => {
      const now = this.now();
      const ops: BatchOp[] = [];
      let revocations = 0;
      for (const [id, until] of this.revoked) {
        if (until > now) continue;
        this.revoked.delete(id);
        ops.push({ type: 'del', key: revokedKey(id) });
        revocations++;
      }
      let refreshTokens = 0;
      for await (const [key, value] of this.db.range(
        subKey(Sub.refresh),
        subKey(Sub.refresh + 1),
      )) {
        const record = JSON.parse(Buffer.from(value).toString('utf8')) as RefreshRecord;
        if (record.expiresAt > now) continue;
        ops.push({ type: 'del', key });
        refreshTokens++;
      }
      if (ops.length > 0) await this.db.write(ops);
      return { revocations, refreshTokens };
    });
  }

  private async issuePair(
    grant: { subject: string; role: Role; apiKeyId: string; familyId: string },
    extraOps: BatchOp[] = [],
  ): Promise<TokenPair> {
    const now = this.now();
    const id = randomBytes(16).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const record: RefreshRecord = {
      id,
      familyId: grant.familyId,
      hash: toHex(sha256(Buffer.from(secret, 'utf8'))),
      subject: grant.subject,
      role: grant.role,
      apiKeyId: grant.apiKeyId,
      createdAt: now,
      expiresAt: now + this.opts.refreshTokenTtlMs,
      usedAt: null,
    };
    await this.db.write([...extraOps, { type: 'put', key: refreshKey(id), value: json(record) }]);
    const access = this.codec.sign({
      subject: grant.subject,
      role: grant.role,
      ttlMs: this.opts.accessTokenTtlMs,
      apiKeyId: grant.apiKeyId,
      familyId: grant.familyId,
    });
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: Math.max(0, access.expiresAt - Math.floor(now / 1000)),
      refreshToken: `utxod_rt_${id}_${secret}`,
      refreshExpiresAt: record.expiresAt,
      role: grant.role,
      subject: grant.subject,
      tokenId: access.tokenId,
    };
  }

  private async checkApiKey(record: ApiKeyRecord, secret: string): Promise<boolean> {
    const { N, r, p, dkLen, salt } = record.kdf;
    const hash = await scryptHash(secret, fromHex(salt), { N, r, p, dkLen });
    const expected = fromHex(record.hash);
    return hash.length === expected.length && timingSafeEqual(hash, expected);
  }

  private refuseIfLocked(subjects: readonly string[]): void {
    const locked = this.lockout.lockedUntil(subjects);
    if (locked === null) return;
    throw new AuthError(
      'AUTH_LOCKED_OUT',
      'too many failed attempts; try again later',
      { scope: locked.subject.startsWith('pair:') ? 'key-and-ip' : 'ip' },
      Math.max(1, Math.ceil((locked.until - this.now()) / 1000)),
    );
  }

  private credentialFailure(
    subjects: readonly string[],
    code: 'AUTH_INVALID_CREDENTIALS' | 'AUTH_REFRESH_INVALID',
    message: string,
  ): AuthError {
    const locked = this.lockout.fail(subjects);
    if (locked.length > 0)
      this.logger?.warn(
        { event: 'auth-lockout', subjects: locked },
        'locked out after repeated failures',
      );
    return new AuthError(code, message);
  }

  private async revokeIds(entries: ReadonlyArray<readonly [string, number]>): Promise<void> {
    const ops: BatchOp[] = entries.map(([id, until]) => ({
      type: 'put',
      key: revokedKey(id),
      value: u64(until),
    }));
    await this.db.write(ops);
    for (const [id, until] of entries)
      this.revoked.set(id, Math.max(until, this.revoked.get(id) ?? 0));
  }

  private perClient<T>(client: string, task: () => Promise<T>): Promise<T> {
    return this.hashQueues.run(client, task);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(task);
  }
}

/** scrypt in libuv's thread pool (node:crypto), so a hash never blocks the event loop. */
function scryptHash(
  secret: string,
  salt: Uint8Array,
  kdf: { N: number; r: number; p: number; dkLen: number },
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scrypt(
      secret,
      salt,
      kdf.dkLen,
      { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + 1024 * 1024 },
      (error, key) => (error === null ? resolve(new Uint8Array(key)) : reject(error)),
    );
  });
}

function subKey(sub: number): Uint8Array {
  return bucketKey(Bucket.auth, Uint8Array.of(sub));
}
function apiKeyKey(id: string): Uint8Array {
  return bucketKey(Bucket.auth, Uint8Array.of(Sub.apiKey), fromHex(id));
}
function refreshKey(id: string): Uint8Array {
  return bucketKey(Bucket.auth, Uint8Array.of(Sub.refresh), fromHex(id));
}
function revokedKey(id: string): Uint8Array {
  return bucketKey(Bucket.auth, Uint8Array.of(Sub.revoked), Buffer.from(id, 'utf8'));
}
function json(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, Math.floor(value))), false);
  return out;
}
function readU64(bytes: Uint8Array): number {
  return Number(
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, false),
  );
}
function hashMatches(expectedHex: string, secret: string): boolean {
  const actual = sha256(Buffer.from(secret, 'utf8'));
  const expected = fromHex(expectedHex);
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}
