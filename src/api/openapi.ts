import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Registry } from 'prom-client';
import type { Chain } from '../chain/index.ts';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../logger/index.ts';
import type { Mempool } from '../mempool/index.ts';
import { Database } from '../storage/index.ts';
import { openAuthStack } from './auth/wiring.ts';
import { type ApiAuthPlugin, buildApiApp } from './server.ts';

export const OPENAPI_PATH = new URL('../../docs/openapi.json', import.meta.url);

/**
 * The OpenAPI document of exactly the routes the server registers, from their
 * schemas. Handlers never run, so the chain and mempool are not needed: the
 * document depends on code only, which is what lets CI compare it to the
 * committed file.
 */
export async function generateOpenApi(auth?: ApiAuthPlugin): Promise<Record<string, unknown>> {
  const { app } = await buildApiApp(
    { docs: true },
    {
      chain: {} as Chain,
      // Only the stream hub touches the mempool at build time (to subscribe).
      mempool: { events: new EventEmitter() } as unknown as Mempool,
      metricsRegistry: new Registry(),
      logger: silentLogger(),
      ...(auth === undefined ? {} : { auth }),
    },
  );
  await app.ready();
  const doc = app.swagger() as unknown as Record<string, unknown>;
  await app.close();
  return doc;
}

export function serializeOpenApi(doc: Record<string, unknown>): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export async function validateOpenApi(doc: Record<string, unknown>): Promise<string[]> {
  const result = await new Validator().validate(doc);
  if (result.valid) return [];
  const errors = result.errors;
  return Array.isArray(errors)
    ? errors.map((e) => JSON.stringify(e))
    : [typeof errors === 'string' ? errors : JSON.stringify(errors)];
}

/**
 * The document the node serves: the API routes plus the auth layer's routes,
 * with the auth stack opened on a throwaway data directory (its routes and
 * schemas do not depend on any stored state).
 */
export async function generateNodeOpenApi(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'utxod-openapi-'));
  const db = await Database.open({ path: join(dir, 'db'), syncWrites: false });
  try {
    const auth = await openAuthStack(loadConfig(dir, {}, {}), {
      db,
      logger: silentLogger(),
      metricsRegistry: new Registry(),
    });
    try {
      return await generateOpenApi(auth.apiHook);
    } finally {
      await auth.close();
    }
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run openapi` writes docs/openapi.json; `npm run openapi:check` fails
 * (exit 1) when the committed file differs from the generated one or the
 * document is not valid OpenAPI.
 */
export async function openApiCommand(args: readonly string[]): Promise<number> {
  const doc = await generateNodeOpenApi();
  const problems = await validateOpenApi(doc);
  if (problems.length > 0) {
    process.stderr.write(`the generated OpenAPI document is invalid:\n${problems.join('\n')}\n`);
    return 1;
  }
  const text = serializeOpenApi(doc);
  if (!args.includes('--check')) {
    writeFileSync(OPENAPI_PATH, text);
    process.stdout.write(`wrote ${OPENAPI_PATH.pathname}\n`);
    return 0;
  }
  let committed = '';
  try {
    committed = readFileSync(OPENAPI_PATH, 'utf8');
  } catch {
    // A missing file is simply out of date.
  }
  if (committed !== text) {
    process.stderr.write(
      'docs/openapi.json is out of date with the route schemas: run `npm run openapi` and commit it\n',
    );
    return 1;
  }
  process.stdout.write('docs/openapi.json is up to date and valid OpenAPI\n');
  return 0;
}
