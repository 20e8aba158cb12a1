import { createHmac, sign as edSign, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UtxodError } from '../../util/index.ts';
import { writeFileAtomicSync } from '../../util/node.ts';
import type { Role } from './roles.ts';
import { edKeyObjects, SigningKeyStore, signingKeysPath } from './signing-keys.ts';

/**
 * Local CLI authentication, in the manner of bitcoind's cookie file. A running
 * node writes `api.cookie` (mode 0600) into its data directory with the URL its
 * API really listens on; a CLI that can read the data directory (the node's
 * own user) finds the node there and signs itself a short-lived token with the
 * data directory's API signing key (`keys/api-signing-keys.json`, mode 0600),
 * which the node verifies like any other token. Nobody hand-mints a token for
 * local use, and nothing long-lived is written: the token lives for minutes.
 */

export class CookieError extends UtxodError<'COOKIE_INVALID'> {}

export interface ApiCookie {
  /** Base URL of the node's API, e.g. http://127.0.0.1:8645. */
  readonly url: string;
  readonly pid: number;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
}

const MAX_COOKIE_BYTES = 4096;
/** Long enough for `send --wait` (a minute of polling), short enough to be useless if leaked. */
export const LOCAL_TOKEN_TTL_MS = 5 * 60_000;

export function cookiePath(datadir: string): string {
  return join(datadir, 'api.cookie');
}

/** Called by the node once its API listens. */
export function writeCookie(datadir: string, cookie: { url: string }): void {
  const body: ApiCookie = { url: cookie.url, pid: process.pid, startedAt: Date.now() };
  writeFileAtomicSync(cookiePath(datadir), `${JSON.stringify(body)}\n`, 0o600);
}

/** Called by the node when it stops; a cookie left by a killed node is harmless (see readCookie). */
export function removeCookie(datadir: string): void {
  rmSync(cookiePath(datadir), { force: true });
}

/** The cookie of the node running on `datadir`, or null when there is none or it cannot be read. */
export function readCookie(datadir: string): ApiCookie | null {
  const path = cookiePath(datadir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    // Absent (node stopped) or unreadable (another user's node): no local auth, not a failure.
    if (isFsAccessError(error)) return null;
    throw error;
  }
  if (text.length > MAX_COOKIE_BYTES)
    throw new CookieError('COOKIE_INVALID', `${path} is larger than ${MAX_COOKIE_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CookieError('COOKIE_INVALID', `${path} is not JSON`, {}, { cause: error });
  }
  const { url, pid, startedAt } = (parsed ?? {}) as Record<string, unknown>;
  if (
    typeof url !== 'string' ||
    !/^https?:\/\/[^\s]{1,300}$/.test(url) ||
    !Number.isSafeInteger(pid) ||
    !Number.isSafeInteger(startedAt)
  )
    throw new CookieError('COOKIE_INVALID', `${path} does not hold a node URL`);
  return { url, pid: pid as number, startedAt: startedAt as number };
}

/**
 * A token for `role` signed with the data directory's current API signing key,
 * or null when this user cannot read that key (or the node never made one).
 * The claims are those TokenCodec.verify requires; written here with
 * node:crypto so the CLI does not load Fastify to sign one token.
 */
export function mintLocalToken(
  datadir: string,
  opts: { role: Role; ttlMs?: number; now?: number },
): string | null {
  const path = signingKeysPath(datadir);
  if (!existsSync(path)) return null;
  let store: SigningKeyStore;
  try {
    store = SigningKeyStore.open({ path, overlapMs: 0 });
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    if (isFsAccessError(cause)) return null;
    throw error;
  }
  const key = store.current;
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const exp = iat + Math.ceil((opts.ttlMs ?? LOCAL_TOKEN_TTL_MS) / 1000);
  // The key fixes the algorithm (TokenCodec pins it per key): EdDSA by default, HS256 when configured.
  const header = { alg: key.alg, typ: 'JWT', kid: key.kid };
  const payload = {
    sub: 'local-cli',
    role: opts.role,
    jti: randomBytes(16).toString('hex'),
    iat,
    exp,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature =
    key.alg === 'EdDSA'
      ? edSign(null, Buffer.from(signingInput), edKeyObjects(key).privateKey).toString('base64url')
      : createHmac('sha256', key.secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function isFsAccessError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'EACCES' || code === 'EPERM';
}
