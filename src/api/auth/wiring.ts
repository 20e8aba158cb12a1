import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AUDIT_RETENTION_MS, AuditLog } from '../../audit/index.ts';
import type { NodeConfig } from '../../config/index.ts';
import type { Database } from '../../storage/index.ts';
import { authPlugin } from './plugin.ts';
import { registerAuthRoutes } from './routes.ts';
import { AuthService } from './service.ts';
import { signingKeysPath } from './signing-keys.ts';

/** The configuration keys the auth layer reads. */
export type AuthConfig = Pick<
  NodeConfig,
  | 'datadir'
  | 'publicRoutes'
  | 'authAccessTokenTtlMs'
  | 'authRefreshTokenTtlMs'
  | 'authSigningKeyOverlapMs'
  | 'authLockoutAttempts'
  | 'authLockoutWindowMs'
  | 'authLockoutDurationMs'
  | 'authScryptLogN'
  | 'authTokenAlgorithm'
  | 'rateLimitEnabled'
  | 'rateLimitWindowMs'
  | 'rateLimitAnonymous'
  | 'rateLimitReader'
  | 'rateLimitOperator'
  | 'rateLimitAdmin'
  | 'rateLimitSubmit'
  | 'rateLimitAuth'
>;

export interface AuthStack {
  readonly service: AuthService;
  readonly audit: AuditLog;
  /**
   * For ApiModules.auth: registers authPlugin and the auth/admin routes on the
   * root app, before any other route is added.
   */
  readonly apiHook: (app: FastifyInstance) => Promise<void>;
  /** Stops the purge timer and waits for queued audit entries (call before closing the database). */
  close(): Promise<void>;
}

/** Opens the auth service and audit log on the node's database and prepares the API hook. */
export async function openAuthStack(
  config: AuthConfig,
  modules: { db: Database; logger: Logger; metricsRegistry: Registry; now?: () => number },
): Promise<AuthStack> {
  const { db, logger, metricsRegistry, now } = modules;
  const service = await AuthService.open(
    {
      signingKeysPath: signingKeysPath(config.datadir),
      tokenAlgorithm: config.authTokenAlgorithm,
      signingKeyOverlapMs: config.authSigningKeyOverlapMs,
      accessTokenTtlMs: config.authAccessTokenTtlMs,
      refreshTokenTtlMs: config.authRefreshTokenTtlMs,
      lockout: {
        maxAttempts: config.authLockoutAttempts,
        windowMs: config.authLockoutWindowMs,
        durationMs: config.authLockoutDurationMs,
      },
      scryptLogN: config.authScryptLogN,
      now,
    },
    { db, logger },
  );
  const audit = await AuditLog.open({ now }, { db, logger });
  // Retention: entries older than AUDIT_RETENTION_MS go, behind a checkpoint that keeps the rest verifiable.
  const prune = () =>
    audit.prune(AUDIT_RETENTION_MS).then(
      ({ pruned, checkpoint }) => {
        if (pruned > 0) logger.info({ pruned, checkpoint }, 'audit log pruned');
      },
      (error: unknown) => logger.error({ err: error }, 'audit log pruning failed'),
    );
  await prune();
  const pruneTimer = setInterval(() => void prune(), 6 * 3_600_000);
  pruneTimer.unref();
  return {
    service,
    audit,
    apiHook: async (app) => {
      await app.register(authPlugin, {
        service,
        audit,
        metricsRegistry,
        publicRoutes: config.publicRoutes,
        rateLimit: config.rateLimitEnabled
          ? {
              windowMs: config.rateLimitWindowMs,
              anonymous: config.rateLimitAnonymous,
              reader: config.rateLimitReader,
              operator: config.rateLimitOperator,
              admin: config.rateLimitAdmin,
              submit: config.rateLimitSubmit,
              auth: config.rateLimitAuth,
            }
          : null,
      });
      registerAuthRoutes(app);
    },
    async close() {
      clearInterval(pruneTimer);
      service.close();
      await audit.flush();
    },
  };
}
