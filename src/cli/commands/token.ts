import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import {
  isRole,
  ROLES,
  SigningKeyStore,
  signingKeysPath,
  TokenCodec,
} from '../../api/auth/index.ts';
import { loadConfig } from '../../config/index.ts';
import { datadirOption, print } from '../shared.ts';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_TTL_MS = 366 * 86_400_000;

/** "90s", "15m", "1h", "30d" -> milliseconds. */
export function parseTtl(value: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(value);
  const ms = match === null ? Number.NaN : Number(match[1]) * UNIT_MS[match[2]!]!;
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_TTL_MS)
    throw new Error(`--ttl must look like 90s, 15m, 1h or 30d (at most 366d), got "${value}"`);
  return ms;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('API access tokens');
  token
    .command('issue')
    .description(
      "mint an access token from the data directory's signing key (works while the node runs)",
    )
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--ttl <duration>', 'lifetime: 90s, 15m, 1h, 30d', '1h')
    .option('--subject <name>', 'the sub claim, shown in the audit log', 'cli')
    .option('--json', 'print token, id and expiry as JSON')
    .addOption(datadirOption())
    .action(
      async (opts: {
        role: string;
        ttl: string;
        subject: string;
        json?: boolean;
        datadir: string;
      }) => {
        if (!isRole(opts.role))
          throw new Error(`--role must be one of ${ROLES.join(', ')}, got "${opts.role}"`);
        if (!/^[\x21-\x7e]{1,200}$/.test(opts.subject))
          throw new Error('--subject must be 1 to 200 printable ASCII characters without spaces');
        const ttlMs = parseTtl(opts.ttl);
        // A mistyped --datadir would otherwise get a fresh key the node has never seen.
        if (!existsSync(opts.datadir))
          throw new Error(`data directory ${opts.datadir} does not exist`);
        const config = loadConfig(opts.datadir);
        const keys = SigningKeyStore.open({
          path: signingKeysPath(config.datadir),
          overlapMs: config.authSigningKeyOverlapMs,
        });
        const codec = await TokenCodec.create({}, { keys });
        const issued = codec.sign({ subject: opts.subject, role: opts.role, ttlMs });
        if (opts.json === true) {
          print(
            JSON.stringify({
              token: issued.token,
              tokenId: issued.tokenId,
              keyId: issued.keyId,
              role: opts.role,
              subject: opts.subject,
              expiresAt: issued.expiresAt,
            }),
          );
        } else {
          print(issued.token);
        }
      },
    );
}
