import { sign as edSign, verify as edVerify, type KeyObject, randomBytes } from 'node:crypto';
import fastifyJwt, { type JWT } from '@fastify/jwt';
import Fastify from 'fastify';
import { AuthError } from './errors.ts';
import { type AuthContext, isRole, type Role } from './roles.ts';
import { edKeyObjects, type SigningKey, type SigningKeyStore } from './signing-keys.ts';

/**
 * Clock skew tolerated between hosts (docs/auth.md): a token issued up to this
 * far in the future, or whose `nbf` is up to this far ahead, is accepted.
 */
export const MAX_CLOCK_SKEW_S = 60;

export interface IssueRequest {
  readonly subject: string;
  readonly role: Role;
  readonly ttlMs: number;
  readonly apiKeyId?: string | null;
  /** The refresh-token family the token was issued through, so revoking the family revokes it. */
  readonly familyId?: string | null;
  /** Not valid before this time (seconds since the epoch), as the `nbf` claim. */
  readonly notBefore?: number;
}

export interface IssuedToken {
  readonly token: string;
  readonly tokenId: string;
  readonly keyId: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export interface VerifiedToken extends AuthContext {
  readonly familyId: string | null;
}

/**
 * Signs and verifies access tokens: EdDSA (Ed25519, node:crypto) by default,
 * HS256 through @fastify/jwt when chosen; `kid` in the header names the key,
 * and the key (not the token) fixes the algorithm. Expiry is checked here against the injected clock rather than
 * by the library, so tests and the offline CLI see one notion of "now".
 */
export class TokenCodec {
  private readonly jwt: JWT;
  /** EdDSA key objects by kid (parsing a JWK per token would cost more than the signature). */
  private readonly edKeys = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();
  private readonly keys: SigningKeyStore;
  private readonly now: () => number;

  private constructor(jwt: JWT, keys: SigningKeyStore, now: () => number) {
    this.jwt = jwt;
    this.keys = keys;
    this.now = now;
  }

  static async create(opts: { now?: () => number }, modules: { keys: SigningKeyStore }) {
    // A private, never-listening instance: the library's signer and verifier
    // without tying the codec to one HTTP server (the CLI has none).
    const app = Fastify({ logger: false });
    await app.register(fastifyJwt, {
      // Every call passes its key explicitly; this only answers stray lookups.
      secret: (_request, _token, cb) => cb(new Error('keys are passed per call'), undefined),
      sign: { algorithm: 'HS256' },
      verify: { algorithms: ['HS256'] },
    });
    await app.ready();
    return new TokenCodec(app.jwt, modules.keys, opts.now ?? Date.now);
  }

  sign(request: IssueRequest): IssuedToken {
    const key = this.keys.current;
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + Math.max(1, Math.ceil(request.ttlMs / 1000));
    const jti = randomBytes(16).toString('hex');
    const payload: Record<string, unknown> = {
      sub: request.subject,
      role: request.role,
      jti,
      iat,
      exp,
    };
    if (request.apiKeyId != null) payload['akid'] = request.apiKeyId;
    if (request.familyId != null) payload['fam'] = request.familyId;
    if (request.notBefore !== undefined) payload['nbf'] = request.notBefore;
    const token =
      key.alg === 'EdDSA'
        ? this.signEd(key, payload)
        : this.jwt.sign(payload, { key: key.secret, kid: key.kid, algorithm: 'HS256' });
    return { token, tokenId: jti, keyId: key.kid, expiresAt: exp };
  }

  /** Checks signature, kid, claims and (unless `ignoreExpiry`) expiry; revocation is the caller's. */
  verify(token: string, opts: { ignoreExpiry?: boolean } = {}): VerifiedToken {
    let decoded: { header: Record<string, unknown>; payload: unknown };
    try {
      if (token.split('.').length !== 3) throw new Error('not three segments');
      decoded = this.jwt.decode(token, { complete: true }) as typeof decoded;
    } catch {
      throw new AuthError('AUTH_TOKEN_MALFORMED', 'the bearer token is not a JWT');
    }
    const { header } = decoded;
    const kid = header['kid'];
    if (typeof kid !== 'string')
      throw new AuthError('AUTH_TOKEN_MALFORMED', 'the token header has no kid');
    const key = this.keys.find(kid);
    if (key === undefined)
      throw new AuthError(
        'AUTH_TOKEN_INVALID',
        'the token was signed by an unknown or retired key',
        {
          reason: 'unknown-key',
          kid,
        },
      );
    // The key decides the algorithm, never the token: an EdDSA public key can
    // never be used as an HMAC secret, nor an HS256 key with another algorithm.
    if (header['alg'] !== key.alg)
      throw new AuthError('AUTH_TOKEN_INVALID', 'unsupported token algorithm', {
        reason: 'algorithm',
      });
    let payload: Record<string, unknown>;
    if (key.alg === 'EdDSA') payload = this.verifyEd(key, token);
    else
      try {
        payload = this.jwt.verify(token, {
          key: key.secret,
          algorithms: ['HS256'],
          ignoreExpiration: true,
          ignoreNotBefore: true,
        }) as Record<string, unknown>;
      } catch {
        throw new AuthError('AUTH_TOKEN_INVALID', 'the token signature does not verify', {
          reason: 'signature',
        });
      }
    const { sub, role, jti, iat, exp, akid, fam, nbf } = payload;
    if (
      typeof sub !== 'string' ||
      sub.length === 0 ||
      !isRole(role) ||
      typeof jti !== 'string' ||
      !/^[0-9a-f]{32}$/.test(jti) ||
      !Number.isSafeInteger(iat) ||
      !Number.isSafeInteger(exp) ||
      !(akid === undefined || typeof akid === 'string') ||
      !(fam === undefined || typeof fam === 'string') ||
      !(nbf === undefined || Number.isSafeInteger(nbf))
    ) {
      throw new AuthError('AUTH_TOKEN_MALFORMED', 'the token lacks required claims');
    }
    const nowS = this.now() / 1000;
    if ((iat as number) > nowS + MAX_CLOCK_SKEW_S)
      throw new AuthError('AUTH_TOKEN_INVALID', 'the token is issued in the future', {
        reason: 'issued-in-future',
      });
    if (nbf !== undefined && (nbf as number) > nowS + MAX_CLOCK_SKEW_S)
      throw new AuthError('AUTH_TOKEN_INVALID', 'the token is not valid yet (nbf)', {
        reason: 'not-yet-valid',
        notBefore: nbf as number,
      });
    if (opts.ignoreExpiry !== true && (exp as number) <= nowS)
      throw new AuthError('AUTH_TOKEN_EXPIRED', 'the token has expired', {
        expiredAt: exp as number,
      });
    return {
      subject: sub,
      role,
      tokenId: jti,
      keyId: kid,
      apiKeyId: akid ?? null,
      familyId: fam ?? null,
      expiresAt: exp as number,
    };
  }

  private edKey(key: SigningKey) {
    let objects = this.edKeys.get(key.kid);
    if (objects === undefined) {
      objects = edKeyObjects(key);
      this.edKeys.set(key.kid, objects);
    }
    return objects;
  }

  private signEd(key: SigningKey, payload: Record<string, unknown>): string {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${b64({ alg: 'EdDSA', typ: 'JWT', kid: key.kid })}.${b64(payload)}`;
    const signature = edSign(null, Buffer.from(input), this.edKey(key).privateKey);
    return `${input}.${signature.toString('base64url')}`;
  }

  private verifyEd(key: SigningKey, token: string): Record<string, unknown> {
    const [head, body, signature] = token.split('.') as [string, string, string];
    const ok =
      /^[A-Za-z0-9_-]{86}$/.test(signature) &&
      edVerify(
        null,
        Buffer.from(`${head}.${body}`),
        this.edKey(key).publicKey,
        Buffer.from(signature, 'base64url'),
      );
    if (!ok)
      throw new AuthError('AUTH_TOKEN_INVALID', 'the token signature does not verify', {
        reason: 'signature',
      });
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
      throw new AuthError('AUTH_TOKEN_MALFORMED', 'the token payload is not a JSON object');
    return payload as Record<string, unknown>;
  }
}
