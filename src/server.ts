import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Config, LogLevel } from './config';
import type { Database } from './db/database';
import { createApollo } from './graphql/apollo';
import { registerGraphQLRoute } from './graphql/route';
import { buildSchema } from './graphql/schema';
import { registerCors } from './http/cors';
import { registerJwks } from './http/jwks';
import { registerProbes } from './http/probes';
import { REQUEST_ID_HEADER, requestIdFrom } from './http/requestId';
import { registerRequestLogging } from './http/requestLogging';
import { fastifyTrustProxy } from './http/trustProxy';
import { createAuditLog } from './logging/audit';
import { loggerOptions, prettyLogStream, wantsPrettyLogs, type LogStream } from './logging/logger';
import { createServices, type Services } from './services';

export interface ServerOptions {
  readonly database: Database;
  /** Replaces the API schema (tests of the directive use their own). */
  readonly schema?: GraphQLSchema;
  /** Pino log level (LOG_LEVEL by default); `silent` in tests. */
  readonly logLevel?: LogLevel;
  /** Where log lines go; stdout by default (pretty or JSON, as LOG_FORMAT says). */
  readonly logStream?: LogStream;
  /** Time between purges of stale refresh tokens (default 10 minutes). */
  readonly tokenPurgeIntervalMs?: number;
  /** False only in the benchmark's comparison server (see `createApollo`). */
  readonly authorizeBeforeExecution?: boolean;
}

export interface AppServer {
  readonly app: FastifyInstance;
  readonly services: Services;
  /** Starts listening; resolves to the base URL (for example http://127.0.0.1:4000). */
  listen(port?: number, host?: string): Promise<string>;
  /**
   * Stops accepting connections and waits for in-flight requests. After `deadlineMs` the
   * connections still open are cut; resolves to false when that was needed.
   */
  close(deadlineMs?: number): Promise<boolean>;
}

// Node refuses request headers over 16 KB with a bare 431. A little more room lets an oversized
// bearer token reach the token check, which refuses it by length with a normal GraphQL answer.
const MAX_HEADER_BYTES = 128 * 1024;

function logStreamFor(config: Config, options: ServerOptions): LogStream | undefined {
  if (options.logStream) return options.logStream;
  const isTerminal = process.stdout.isTTY === true;
  const pretty = wantsPrettyLogs(config.logFormat, {
    isProduction: config.isProduction,
    isTerminal,
  });
  return pretty ? prettyLogStream() : undefined;
}

/**
 * Builds the HTTP server in Fastify's loading order: the instance and its services, hooks,
 * plugins, routes, then the GraphQL route (docs/architecture.md). Does no network I/O until
 * {@link AppServer.listen}.
 */
export async function createServer(config: Config, options: ServerOptions): Promise<AppServer> {
  const { database } = options;
  const app = Fastify({
    logger: loggerOptions(options.logLevel ?? config.logLevel, logStreamFor(config, options)),
    // One line per request, written by registerRequestLogging, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (request) => requestIdFrom(request.headers[REQUEST_ID_HEADER]),
    bodyLimit: config.bodyLimit,
    // Only then does X-Forwarded-For decide request.ip, and so the per-IP throttle.
    trustProxy: fastifyTrustProxy(config.trustProxy),
    http: { maxHeaderSize: MAX_HEADER_BYTES },
  });
  const services = createServices(config, database.models, {
    audit: createAuditLog(app.log),
    logger: app.log,
    tokenPurgeIntervalMs: options.tokenPurgeIntervalMs,
  });
  const apollo = await createApollo(config, app, options.schema ?? buildSchema(), {
    authorizeBeforeExecution: options.authorizeBeforeExecution,
  });

  // The purge runs while the server does: from listen (or ready) until close, never on import.
  app.addHook('onReady', (done) => {
    services.tokenPurge.start();
    done();
  });
  app.addHook('onClose', () => services.tokenPurge.stop());
  let closing = false;
  app.addHook('onSend', (_request, reply, payload, done) => {
    // Answers finished during shutdown also end their keep-alive connection, so the server can
    // close as soon as the last one is out instead of waiting for clients to hang up.
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  registerRequestLogging(app);
  await registerCors(app, config.corsOrigins);
  registerProbes(app, database);
  registerJwks(app, config.jwt);
  await registerGraphQLRoute(app, apollo, services);

  return {
    app,
    services,
    async listen(port = config.port, host = config.host) {
      await app.listen({ port, host });
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    },
    async close(deadlineMs = Infinity) {
      closing = true;
      let cut = false;
      const timer = Number.isFinite(deadlineMs)
        ? setTimeout(() => {
            cut = true;
            app.log.warn({ deadlineMs }, 'shutdown deadline passed: closing open connections');
            app.server.closeAllConnections();
          }, deadlineMs)
        : undefined;
      try {
        await app.close();
        await apollo.stop();
      } finally {
        clearTimeout(timer);
      }
      return !cut;
    },
  };
}
