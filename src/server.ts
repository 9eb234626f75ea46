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
import { fastifyTrustProxy, registerForwardedForWarning } from './http/trustProxy';
import { createMemoryEventBus, type EventBus } from './events/eventBus';
import { createRedisEventBus } from './events/redisEventBus';
import { createAuditLog } from './logging/audit';
import {
  loggerOptions,
  prettyLogStream,
  boundedLogStream,
  wantsPrettyLogs,
  type LogStream,
} from './logging/logger';
import { createMetrics, type ApiMetrics } from './metrics/metrics';
import { startMetricsServer, type MetricsServer } from './metrics/metricsServer';
import { registerRequestMetrics } from './metrics/requestMetrics';
import { sharedHashingPool } from './passwords/hashingPool';
import { createServices, type Services } from './services';
import { createSubscriptionServer, type SubscriptionServer } from './subscriptions/webSocketServer';

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
  /** Time a client has to send a whole request, headers and body (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** False only in the benchmark's comparison server (see `createApollo`). */
  readonly authorizeBeforeExecution?: boolean;
}

export interface AppServer {
  readonly app: FastifyInstance;
  readonly services: Services;
  /** GraphQL subscriptions over WebSocket on the same port (docs/subscriptions.md). */
  readonly subscriptions: SubscriptionServer;
  /** This server's Prometheus registry and counters (docs/operations.md, "Metrics"). */
  readonly metrics: ApiMetrics;
  /** Base URL of the `/metrics` listener once listening, when METRICS_PORT is set. */
  readonly metricsUrl: string | undefined;
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
// A client that trickles its request ties up a connection; Node's default is five minutes, and
// a GraphQL request has no reason to take more than a few seconds to arrive (docs/security.md).
const REQUEST_TIMEOUT_MS = 30_000;

function logStreamFor(config: Config, options: ServerOptions): LogStream | undefined {
  if (options.logStream) return options.logStream;
  const isTerminal = process.stdout.isTTY === true;
  const pretty = wantsPrettyLogs(config.logFormat, {
    isProduction: config.isProduction,
    isTerminal,
  });
  // Never pino's default synchronous stdout: a log collector that stops reading would stop the
  // process with it (docs/operations.md).
  return (pretty ? prettyLogStream() : undefined) ?? boundedLogStream();
}

/**
 * Builds the HTTP server in Fastify's loading order: the instance and its services, hooks,
 * plugins, routes, then the GraphQL route (docs/architecture.md). Does no network I/O until
 * {@link AppServer.listen}.
 */
export async function createServer(config: Config, options: ServerOptions): Promise<AppServer> {
  const { database } = options;
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = Fastify({
    logger: loggerOptions(options.logLevel ?? config.logLevel, logStreamFor(config, options)),
    // One line per request, written by registerRequestLogging, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (request) => requestIdFrom(request.headers[REQUEST_ID_HEADER]),
    bodyLimit: config.bodyLimit,
    // Only then does X-Forwarded-For decide request.ip, and so the per-IP throttle.
    trustProxy: fastifyTrustProxy(config.trustProxy),
    http: {
      maxHeaderSize: MAX_HEADER_BYTES,
      // Node looks for late requests only this often (30 s by default), and only enforces the
      // request timeout when the headers timeout (60 s by default) is not longer.
      connectionsCheckingInterval: Math.min(5000, Math.ceil(requestTimeout / 4)),
      headersTimeout: requestTimeout,
    },
    requestTimeout,
  });
  const events: EventBus = config.subscriptions.redisUrl
    ? createRedisEventBus({ url: config.subscriptions.redisUrl, logger: app.log })
    : createMemoryEventBus((error) =>
        app.log.warn({ err: error }, 'security event listener failed'),
      );
  const metrics = createMetrics({
    pool: sharedHashingPool(),
    processMetrics: config.metrics.port !== undefined,
  });
  const services = createServices(config, database.models, {
    audit: createAuditLog(app.log),
    logger: app.log,
    tokenPurgeIntervalMs: options.tokenPurgeIntervalMs,
    events,
    metrics,
  });
  const schema = options.schema ?? buildSchema();
  const apollo = await createApollo(config, app, schema, {
    authorizeBeforeExecution: options.authorizeBeforeExecution,
  });
  const subscriptions = createSubscriptionServer({ config, schema, services, logger: app.log });

  // The purge runs while the server does: from listen (or ready) until close, never on import.
  app.addHook('onReady', (done) => {
    services.tokenPurge.start();
    done();
  });
  app.addHook('onClose', () => services.tokenPurge.stop());
  // Deliveries in flight get a moment to finish; waiting retries are dropped (docs/recovery.md).
  app.addHook('onClose', () => services.mail.close());
  // Upgraded sockets keep the HTTP server open, so they close before it does.
  subscriptions.attach(app.server);
  app.addHook('preClose', () => subscriptions.close());
  app.addHook('onClose', () => events.close());
  let closing = false;
  app.addHook('onSend', (_request, reply, payload, done) => {
    // Answers finished during shutdown also end their keep-alive connection, so the server can
    // close as soon as the last one is out instead of waiting for clients to hang up.
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  registerRequestLogging(app);
  registerRequestMetrics(app, metrics);
  registerForwardedForWarning(app, config.trustProxy);
  await registerCors(app, config.corsOrigins, { credentials: config.refreshTokenCookie });
  registerProbes(app, database, events);
  registerJwks(app, config.jwt);
  await registerGraphQLRoute(app, apollo, services, {
    refreshTokenCookie: config.refreshTokenCookie,
    corsOrigins: config.corsOrigins,
  });

  // Its own listener, never a route of the API: see docs/operations.md, "Metrics".
  let metricsServer: MetricsServer | undefined;
  app.addHook('onClose', async () => {
    await metricsServer?.close();
    metrics.close();
  });

  return {
    app,
    services,
    subscriptions,
    metrics,
    get metricsUrl() {
      return metricsServer?.url;
    },
    async listen(port = config.port, host = config.host) {
      await app.listen({ port, host });
      if (config.metrics.port !== undefined) {
        metricsServer = await startMetricsServer(metrics.registry, config.metrics.port, host);
      }
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
