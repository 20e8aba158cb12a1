import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, {
  type FastifyInstance,
  type FastifySchemaCompiler,
  type FastifySchemaValidationError,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type TSchema, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { Chain } from '../chain/index.ts';
import type { Mempool } from '../mempool/index.ts';
import { MAX_TX_BYTES } from '../primitives/index.ts';
import { ApiError, errorHandler, StateSyncInProgressError } from './errors.ts';
import { httpMetrics } from './http-metrics.ts';
import { demoteListenLines, listenText } from './listen-log.ts';
import type { ConsensusQueries, StakingQueries } from './queries.ts';
import { registerAddressRoutes } from './routes/addresses.ts';
import { registerChainRoutes } from './routes/chain.ts';
import {
  type AdminHooks,
  type ApiApp,
  type ApiContext,
  type NodeStatusSource,
  staticStatus,
} from './routes/context.ts';
import { registerContractRoutes } from './routes/contracts.ts';
import { registerMempoolRoutes } from './routes/mempool.ts';
import { registerHealthRoutes, registerNodeRoutes } from './routes/node.ts';
import { registerPeerRoutes } from './routes/peers.ts';
import { registerStakingRoutes } from './routes/staking.ts';
import {
  registerStreamRoute,
  STREAM_MAX_MESSAGE_BYTES,
  streamErrorHandler,
} from './routes/stream.ts';
import { registerTxRoutes } from './routes/txs.ts';
import { ErrorBody, ErrorRef } from './schemas/common.ts';
import { type BlockEventSource, StreamHub, type StreamHubOptions } from './stream-hub.ts';

export type {
  AdminHooks,
  ApiContext,
  AuthRole,
  NodeStatusSource,
  RateLimitClass,
} from './routes/context.ts';

export const API_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** A hex transaction is twice its size; the JSON around it is small. */
export const DEFAULT_BODY_LIMIT = 2 * MAX_TX_BYTES + 4096;

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimit?: number;
  /** Origins allowed to call the API from a browser; empty or absent: CORS off. */
  readonly corsOrigins?: readonly string[];
  /**
   * Proxies (IPs or CIDRs) whose X-Forwarded-For and X-Forwarded-Proto are
   * believed, so rate limits, lockouts and stream caps see the real client.
   * Empty or absent (the default): the socket's address is the client.
   */
  readonly trustProxy?: readonly string[];
  /** /health/ready fails when the tip is older than this; 0 disables the check. */
  readonly readyMaxTipAgeMs?: number;
  /** Serve the OpenAPI UI at /api/v1/docs (default true). */
  readonly docs?: boolean;
  /** WebSocket stream limits (sockets in total, per subject, per address; buffered bytes). */
  readonly stream?: StreamHubOptions;
}

/**
 * The auth layer (src/api/auth) plugs in here: called on the root instance
 * after the common hooks and before any route is added, so its onRoute and
 * onRequest hooks see every route and its `config.auth`.
 */
export type ApiAuthPlugin = (app: FastifyInstance) => Promise<void>;

export interface ApiModules {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly metricsRegistry: Registry;
  readonly logger: Logger;
  /** BlockImporter.events: feeds the block/address stream. */
  readonly blockEvents?: BlockEventSource;
  /** Sync and peer state from the p2p layer (single-node defaults until it exists). */
  readonly status?: NodeStatusSource;
  readonly admin?: AdminHooks;
  // AUTH HOOK: the auth helper passes its plugin here (see ApiAuthPlugin).
  readonly auth?: ApiAuthPlugin;
  /** The staking registry for /validators and /evidence (src/consensus/staking/queries.ts). */
  readonly staking?: StakingQueries;
  /** The BFT engine's summary for /consensus. */
  readonly consensus?: ConsensusQueries;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

const HELMET_OPTIONS = {
  // The docs UI needs its own scripts and styles; @fastify/swagger-ui sets a CSP for them.
  contentSecurityPolicy: {
    // Responses are JSON: nothing may load or frame them; helmet's page-oriented defaults add only bytes.
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginResourcePolicy: { policy: 'same-site' as const },
  // Headers that govern how a browser treats an HTML document or that only old
  // browsers read: a JSON response is neither, and each costs bytes on every
  // reply. Kept: CSP, CORP, HSTS, nosniff, X-Frame-Options.
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/**
 * The headers @fastify/helmet sets with HELMET_OPTIONS, captured once from a
 * throwaway instance. They never vary per request here (no CSP nonces), and
 * helmet rebuilding them on every request cost a third of a cheap read's time.
 */
async function helmetHeaders(): Promise<Record<string, string>> {
  const probe = Fastify();
  await probe.register(helmet, HELMET_OPTIONS);
  probe.get('/', async () => '');
  const response = await probe.inject({ method: 'GET', url: '/' });
  await probe.close();
  const plain = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers))
    if (!plain.has(name) && typeof value === 'string') headers[name] = value;
  return headers;
}

/** The only spelling of an integer in a path or query: no sign, spaces, exponent, fraction, hex or leading zero. */
const NO_QUERY = Type.Object({}, { additionalProperties: false });

/**
 * What a generated client needs from each route's schema: an operationId (its
 * method name), the security it requires (public, or the bearer scheme with
 * the least role as scope) and the error responses it can give, each in the
 * error shape. Filled in from the route's declarations when it does not say.
 */
function describeForClients(route: {
  method: string | string[];
  url: string;
  schema?: Record<string, unknown>;
  config?: unknown;
}): Record<string, unknown> {
  const schema = { ...route.schema };
  const method = [route.method].flat()[0]!.toLowerCase();
  if (schema['operationId'] === undefined) schema['operationId'] = operationIdOf(method, route.url);
  const access = (route.config as { auth?: string } | undefined)?.auth ?? 'admin';
  if (schema['security'] === undefined)
    schema['security'] = access === 'public' ? [] : [{ bearerAuth: [access] }];
  const response = schema['response'] as Record<string, unknown> | undefined;
  if (response !== undefined) {
    const errors = [400, 429, 500];
    if (access !== 'public') errors.push(401, 403);
    if (method === 'post' || method === 'put') errors.push(413, 415);
    // STATE_SYNC_IN_PROGRESS: refused while the node builds its chain from a snapshot.
    if ((route.config as { duringStateSync?: boolean } | undefined)?.duringStateSync !== true)
      errors.push(503);
    const out: Record<string, unknown> = { ...response };
    for (const status of errors) out[status] ??= ErrorRef;
    schema['response'] = out;
  }
  return schema;
}

function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v1\//, '')
    .split(/[/._-]/)
    .filter((w) => w !== '' && w !== 'well' && w !== 'known')
    .map((w) => (w.startsWith(':') ? `by-${w.slice(1)}` : w))
    .flatMap((w) => w.split('-'));
  return [method, ...words]
    .map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1)))
    .join('');
}

const CANONICAL_INTEGER = /^(0|[1-9][0-9]{0,15})$/;

/**
 * Path and query values arrive as strings. TypeBox's conversion would read
 * "1.5", " " and "0x10" as 1, 0 and 16; only canonical decimal integers and
 * the words true/false are converted, anything else stays a string and fails
 * the schema (400 VALIDATION_ERROR).
 */
function strictConvert(schema: TSchema, value: unknown): unknown {
  const input = Value.Default(schema, Value.Clone(value));
  if (input === null || typeof input !== 'object') return Value.Convert(schema, input);
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties;
  const record = input as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(record)) {
    const type = properties?.[key]?.type;
    if (typeof raw !== 'string') continue;
    if ((type === 'integer' || type === 'number') && !CANONICAL_INTEGER.test(raw)) kept[key] = raw;
    if (type === 'boolean' && raw !== 'true' && raw !== 'false') kept[key] = raw;
  }
  const converted = Value.Convert(schema, record) as Record<string, unknown>;
  return { ...converted, ...kept };
}

/**
 * TypeBox's compiled checks instead of Ajv: URL parts get their defaults and
 * strict string-to-number/boolean conversion, bodies are checked exactly as
 * sent (`{"hex": 12}` is refused, not coerced to "12").
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  return (value: unknown) => {
    const input = httpPart === 'body' ? value : strictConvert(schema, value);
    if (check.Check(input)) return { value: input };
    return { error: [...check.Errors(input)] as unknown as FastifySchemaValidationError[] };
  };
};

/**
 * Builds the Fastify app with every /api/v1 route, without listening. Kept
 * separate from ApiServer so the OpenAPI generator can build the same routes.
 */
export async function buildApiApp(
  opts: Omit<ApiServerOptions, 'host' | 'port'>,
  modules: ApiModules,
): Promise<{ app: ApiApp; hub: StreamHub; context: ApiContext }> {
  // Filled in below; the framework-error handler runs before any hook and sets them itself.
  let securityHeaders: Record<string, string> = {};
  const fastify = Fastify({
    loggerInstance: modules.logger.child({ module: 'api' }),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    // A caller's own id is kept (for tracing across services) when it is short and plain.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 200 },
    trustProxy:
      opts.trustProxy !== undefined && opts.trustProxy.length > 0 ? [...opts.trustProxy] : false,
    // Errors raised while routing (before any hook): same body and headers as every other error.
    frameworkErrors: (error, request, reply) => {
      void reply.headers(securityHeaders);
      void reply.header('x-request-id', request.id);
      errorHandler(error, request, reply);
    },
  });
  demoteListenLines(fastify.log);
  const app = fastify.withTypeProvider() as unknown as ApiApp;
  app.setValidatorCompiler(validatorCompiler);
  // JSON only: a text body would otherwise reach validation and fail with a misleading message.
  app.removeContentTypeParser(['text/plain']);

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request) => {
    throw new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
  });
  securityHeaders = await helmetHeaders();
  // Callback-style hooks: on the cheapest reads an async hook's extra promise is measurable.
  const { 'strict-transport-security': _hsts, ...plainHttpHeaders } = securityHeaders;
  app.addHook('onRequest', (request, reply, done) => {
    // HSTS means nothing over plain http and misleads: only sent when the client came over https.
    void reply.headers(request.protocol === 'https' ? securityHeaders : plainHttpHeaders);
    void reply.header('x-request-id', request.id);
    done();
  });
  // Routes added by plugins (the docs UI) are public unless they say otherwise.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/v1/docs')) {
      if (route.config?.auth === undefined) route.config = { ...route.config, auth: 'public' };
      route.config = { ...route.config, duringStateSync: true };
      return;
    }
    // A route that takes no query parameters refuses any (docs/api.md), like those that declare some.
    if (route.url.startsWith('/api/v1/') && route.schema?.querystring === undefined)
      route.schema = { ...route.schema, querystring: NO_QUERY };
    if (route.schema !== undefined)
      route.schema = describeForClients(route as Parameters<typeof describeForClients>[0]);
  });
  const metrics = httpMetrics(modules.metricsRegistry);
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? '(unmatched)';
    metrics.record(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (request.log.level === 'debug' || request.log.level === 'trace')
      request.log.debug(
        { method: request.method, route, status: reply.statusCode, ms: reply.elapsedTime },
        'request',
      );
    done();
  });

  const origins = opts.corsOrigins ?? [];
  if (origins.length > 0) {
    await app.register(cors, {
      origin: [...origins],
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
      exposedHeaders: ['x-request-id'],
      maxAge: 600,
    });
  }
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    transformObject: (document) =>
      'openapiObject' in document
        ? optionalDefaultedQueries(document.openapiObject)
        : document.swaggerObject,
    // Shared schemas keep their $id as the component name (the error shape is referenced by every route).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`,
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'utxod API',
        version: API_VERSION,
        license: { name: 'MIT', identifier: 'MIT' },
        description:
          'The utxod node API. Amounts are base units as decimal strings; errors use one shape (see docs/api.md).',
      },
      servers: [{ url: 'http://127.0.0.1:8645' }],
      tags: [
        { name: 'chain', description: 'Blocks, headers, the tip and chain parameters' },
        { name: 'transactions', description: 'Submit transactions and look up their status' },
        { name: 'addresses', description: 'Balances, unspent coins and history of an address' },
        { name: 'mempool', description: 'Pending transactions and fee-rate estimates' },
        { name: 'node', description: 'Node status and operator actions' },
        {
          name: 'staking',
          description: 'Validators, stake, jail and liveness, committed evidence, consensus state',
        },
        {
          name: 'contracts',
          description: 'Deployed contracts, storage values with state proofs, read-only queries',
        },
        {
          name: 'stream',
          description: 'WebSocket stream of blocks, address activity and contract events',
        },
        { name: 'health', description: 'Liveness and readiness probes' },
        { name: 'auth', description: 'API-key exchange, token refresh and revocation, JWKS' },
        { name: 'admin', description: 'Operator routes: API keys, audit log, peers, keys' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              'Access token from POST /api/v1/auth/token or `utxod token issue`; the scope names the least role a route needs (docs/auth.md).',
          },
        },
      },
    },
  });
  await app.register(websocket, {
    options: { maxPayload: STREAM_MAX_MESSAGE_BYTES },
    errorHandler: streamErrorHandler(modules.logger.child({ module: 'stream' })),
  });

  if (modules.auth !== undefined) await modules.auth(app as unknown as FastifyInstance);
  // After auth: a caller without a valid token learns nothing more than before.
  const status = modules.status ?? staticStatus;
  app.addHook('onRequest', (request, _reply, done) => {
    if (
      status.stateSyncRunning === true &&
      request.routeOptions.url !== undefined &&
      request.routeOptions.config.duringStateSync !== true
    )
      done(new StateSyncInProgressError(status.stateSync ?? null));
    else done();
  });

  const hub = new StreamHub(opts.stream ?? {}, {
    chain: modules.chain,
    mempool: modules.mempool,
    logger: modules.logger.child({ module: 'stream' }),
    metricsRegistry: modules.metricsRegistry,
  });
  const context: ApiContext = {
    chain: modules.chain,
    mempool: modules.mempool,
    logger: modules.logger,
    status,
    admin: modules.admin ?? {},
    hub,
    version: API_VERSION,
    startedAt: Date.now(),
    readyMaxTipAgeMs: opts.readyMaxTipAgeMs ?? 0,
    ...(modules.staking === undefined ? {} : { staking: modules.staking }),
    ...(modules.consensus === undefined ? {} : { consensus: modules.consensus }),
  };
  registerChainRoutes(app, context);
  registerStakingRoutes(app, context);
  registerContractRoutes(app, context);
  registerTxRoutes(app, context);
  registerAddressRoutes(app, context);
  registerMempoolRoutes(app, context);
  registerNodeRoutes(app, context);
  registerPeerRoutes(app, context);
  registerHealthRoutes(app, context);
  registerStreamRoute(app, context);
  if (opts.docs !== false) {
    await app.register(swaggerUi, { routePrefix: '/api/v1/docs', staticCSP: true });
    // Over plain http (a node on localhost) the browser would upgrade the page's
    // asset requests to https, which nothing serves: the docs page loads blank.
    app.addHook('onSend', (request, reply, payload, done) => {
      if (request.protocol !== 'https' && request.url.startsWith('/api/v1/docs')) {
        const csp = reply.getHeader('content-security-policy');
        if (typeof csp === 'string')
          void reply.header(
            'content-security-policy',
            csp.replace(/\s*upgrade-insecure-requests;?/, ''),
          );
      }
      done(null, payload);
    });
  }
  return { app, hub, context };
}

/**
 * The node's HTTP API under /api/v1: chain, transactions, addresses, mempool,
 * node status, admin, a WebSocket stream and the OpenAPI docs. Metrics are
 * served by MetricsServer on their own port.
 */
export class ApiServer {
  readonly app: ApiApp;
  readonly hub: StreamHub;
  private readonly opts: ApiServerOptions;
  private readonly unsubscribe: () => void;

  private constructor(
    opts: ApiServerOptions,
    app: ApiApp,
    hub: StreamHub,
    unsubscribe: () => void,
  ) {
    this.opts = opts;
    this.app = app;
    this.hub = hub;
    this.unsubscribe = unsubscribe;
  }

  static async init(opts: ApiServerOptions, modules: ApiModules): Promise<ApiServer> {
    const { app, hub } = await buildApiApp(opts, modules);
    const onBlock = hub.onBlock.bind(hub);
    modules.blockEvents?.on('block', onBlock);
    const unsubscribe = () => modules.blockEvents?.off('block', onBlock);
    app.addHook('preClose', async () => {
      unsubscribe();
      hub.closeAll();
    });
    await app.ready();
    return new ApiServer(opts, app, hub, unsubscribe);
  }

  /** Starts listening; returns the bound address (port 0 picks a free one). */
  async listen(): Promise<string> {
    return this.app.listen({
      host: this.opts.host,
      port: this.opts.port,
      listenTextResolver: listenText,
    });
  }

  get fastify(): FastifyInstance {
    return this.app as unknown as FastifyInstance;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.app.close();
  }
}

/**
 * A query parameter with a default is one the client may leave out (the
 * server fills it in), but @fastify/swagger marks every non-Optional TypeBox
 * property `required`, so generated clients made callers pass `?txs=false`.
 */
function optionalDefaultedQueries<T extends { paths?: unknown }>(doc: T): T {
  type Param = { in?: string; required?: boolean; schema?: { default?: unknown } };
  const paths = (doc.paths ?? {}) as Record<string, Record<string, { parameters?: Param[] }>>;
  for (const methods of Object.values(paths)) {
    for (const operation of Object.values(methods)) {
      for (const param of operation.parameters ?? []) {
        if (param.in === 'query' && param.schema?.default !== undefined) param.required = false;
      }
    }
  }
  return doc;
}
