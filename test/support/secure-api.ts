/**
 * A real ApiServer with the real auth stack (signing keys, API keys, audit log
 * in their own LevelDB) on loopback, for the attack suite in test/security/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Role } from '../../src/api/auth/roles.ts';
import { type AuthConfig, type AuthStack, openAuthStack } from '../../src/api/auth/wiring.ts';
import type { ApiServerOptions } from '../../src/api/server.ts';
import { DEFAULT_CONFIG } from '../../src/config/index.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import { Database } from '../../src/storage/db.ts';
import { type ApiFixture, startApiFixture } from './api-server.ts';

/** A parsed response body: the error shape's fields when it is one, `{}` when empty. */
export type ApiBody = {
  error?: { code: string; message: string; details: Record<string, unknown> };
  requestId?: string;
} & Record<string, unknown>;

export interface SecureApiFixture extends ApiFixture {
  readonly auth: AuthStack;
  /** A fresh access token for `subject` with `role`. */
  token(subject: string, role: Role): string;
  /** GET/POST with an optional bearer token; the parsed JSON body (or null) and the response. */
  call(
    method: string,
    path: string,
    opts?: {
      token?: string;
      body?: unknown;
      headers?: Record<string, string>;
      /** Local address to send from (127.0.0.2, ...): another client IP. */
      from?: string;
    },
  ): Promise<{ status: number; body: ApiBody; headers: Headers }>;
  /** Reads one sample of a metric from the server's registry (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export async function startSecureApi(
  opts: {
    auth?: Partial<AuthConfig>;
    server?: Partial<Omit<ApiServerOptions, 'host' | 'port'>>;
    now?: () => number;
    logger?: Logger;
  } = {},
): Promise<SecureApiFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'utxod-secure-'));
  const db = await Database.open({ path: join(dir, 'auth'), syncWrites: false });
  const config: AuthConfig = {
    ...DEFAULT_CONFIG,
    authScryptLogN: 10,
    ...opts.auth,
    datadir: dir,
  };
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const auth = await openAuthStack(config, {
    db,
    logger: silentLogger(),
    metricsRegistry: registry,
    ...(opts.now === undefined ? {} : { now: opts.now }),
  });
  const base = await startApiFixture({
    ...opts.server,
    auth: auth.apiHook,
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
  });
  const metricsOf = base.registry;
  return {
    ...base,
    auth,
    token: (subject, role) => auth.service.issueAccessToken(subject, role).token,
    call(method, path, callOpts = {}) {
      const headers: Record<string, string> = { ...callOpts.headers };
      if (callOpts.token !== undefined) headers['authorization'] = `Bearer ${callOpts.token}`;
      const payload = callOpts.body === undefined ? undefined : JSON.stringify(callOpts.body);
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const target = new URL(base.url);
      return new Promise((resolve, reject) => {
        const req = request(
          {
            host: target.hostname,
            port: Number(target.port),
            method,
            path,
            headers,
            agent: false,
            // Another loopback address is another client (127.0.0.0/8 all reach the server).
            ...(callOpts.from === undefined ? {} : { localAddress: callOpts.from }),
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let body: ApiBody = {};
              try {
                body = text === '' ? {} : (JSON.parse(text) as ApiBody);
              } catch {
                body = { raw: text };
              }
              const h = new Headers();
              for (const [k, v] of Object.entries(res.headers))
                if (typeof v === 'string') h.set(k, v);
              resolve({ status: res.statusCode ?? 0, body, headers: h });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    async metric(name, labels = {}) {
      let total = 0;
      for (const r of [metricsOf, registry]) {
        const m = r.getSingleMetric(name);
        if (m === undefined) continue;
        for (const v of (await m.get()).values)
          if (Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l)) total += v.value;
      }
      return total;
    },
    async close() {
      await base.close();
      await auth.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
