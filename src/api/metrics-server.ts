import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ApiError, errorHandler } from './errors.ts';
import { demoteListenLines, listenText } from './listen-log.ts';

export interface MetricsServerOptions {
  readonly host: string;
  readonly port: number;
}

/**
 * Prometheus exposition on its own port (loopback by default): scrapers get
 * no path into the API, and the API's auth and rate limits never throttle a
 * scrape. GET /metrics only.
 */
export class MetricsServer {
  private readonly app: FastifyInstance;
  private readonly opts: MetricsServerOptions;

  private constructor(opts: MetricsServerOptions, app: FastifyInstance) {
    this.opts = opts;
    this.app = app;
  }

  static async init(
    opts: MetricsServerOptions,
    modules: { registry: Registry; logger: Logger },
  ): Promise<MetricsServer> {
    const app = Fastify({
      loggerInstance: modules.logger.child({ module: 'metrics' }),
      logController: new LogController({ disableRequestLogging: true }),
    }) as unknown as FastifyInstance;
    demoteListenLines(app.log);
    app.setErrorHandler(errorHandler);
    app.setNotFoundHandler((request) => {
      throw new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${request.url}`);
    });
    app.get('/metrics', async (_request, reply) => {
      void reply.header('content-type', modules.registry.contentType);
      return modules.registry.metrics();
    });
    await app.ready();
    return new MetricsServer(opts, app);
  }

  async listen(): Promise<string> {
    return this.app.listen({
      host: this.opts.host,
      port: this.opts.port,
      listenTextResolver: listenText,
    });
  }

  get fastify(): FastifyInstance {
    return this.app;
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}
