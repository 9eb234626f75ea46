import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import fastifyCors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { createAuditLog } from './logging/audit';
import type { Config, LogLevel, TrustProxy } from './config';
import { buildContext, type GraphQLContext } from './graphql/context';
import type { Database } from './db/database';
import { corsOriginMatcher } from './http/corsOrigins';
import { InternalError, isClientError, isRequestError } from './errors';
import { loggerOptions, pathOf, type LogStream } from './logging/logger';
import { errorLoggingPlugin } from './graphql/plugins/errorLogging';
import { createQueryLimits } from './graphql/plugins/queryLimits';
import { retryAfterHeaderPlugin } from './graphql/plugins/retryAfterHeader';
import { REQUEST_ID_HEADER, requestIdFrom } from './http/requestId';
import { currentRequestScope, runInRequestScope, type RequestScope } from './logging/requestScope';
import { buildSchema } from './graphql/schema';
import { createServices, type Services } from './services';

export interface ServerOptions {
  readonly database: Database;
  /** Replaces the API schema (tests of the directive use their own). */
  readonly schema?: GraphQLSchema;
  /** Pino log level (LOG_LEVEL by default); `silent` in tests. */
  readonly logLevel?: LogLevel;
  /** Where JSON log lines go; stdout by default. */
  readonly logStream?: LogStream;
  /** Time between purges of stale refresh tokens (default 10 minutes). */
  readonly tokenPurgeIntervalMs?: number;
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

/** RFC 6750 §3.1: tells the client its bearer token was rejected. */
const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';
const GRAPHQL_PATH = '/graphql';
// Node refuses request headers over 16 KB with a bare 431. A little more room lets an oversized
// bearer token reach the token check, which refuses it by length with a normal GraphQL answer.
const MAX_HEADER_BYTES = 128 * 1024;
// Verifiers may cache the key set this long; a new key is published before it signs anything.
const JWKS_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=60';
// graphql-js hints such as `Did you mean "email"?` reveal schema names that introspection hides.
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

const PROBE_PATHS = new Set(['/health', '/ready']);

/** Names the GraphQL operation of the request in its log line (never its variables). */
const operationNamePlugin: ApolloServerPlugin<GraphQLContext> = {
  requestDidStart() {
    return Promise.resolve({
      didResolveOperation({ operationName }) {
        const scope = currentRequestScope();
        if (scope && operationName) scope.operation = operationName;
        return Promise.resolve();
      },
    });
  },
};

export interface ErrorFormatterOptions {
  /** Strip "Did you mean …?" hints from request errors (production, or introspection off). */
  readonly hideSuggestions: boolean;
}

/**
 * Returns our own errors as they are and masks everything else (DESIGN §2). Masked errors are
 * logged with their request id by {@link errorLoggingPlugin}.
 */
export function createErrorFormatter(options: ErrorFormatterOptions) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (isClientError(original)) {
      return {
        message: formatted.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: original.extensions,
      };
    }
    if (isRequestError(error)) {
      const extensions = { ...formatted.extensions };
      delete extensions.stacktrace;
      const message = options.hideSuggestions
        ? formatted.message.replace(SUGGESTION, '')
        : formatted.message;
      return { ...formatted, message, extensions };
    }
    const masked = new InternalError();
    return {
      message: masked.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: masked.extensions,
    };
  };
}

function fastifyTrustProxy(
  trust: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  // Fastify takes a hop count at run time, but its types do not; proxy-addr counts hops from 0.
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}

/**
 * Builds the HTTP server: Fastify with Apollo Server at /graphql, plus /health, /ready and the
 * JWKS document. Does no network I/O until {@link AppServer.listen}.
 */
export async function createServer(config: Config, options: ServerOptions): Promise<AppServer> {
  const { database } = options;
  const app = Fastify({
    logger: loggerOptions(options.logLevel ?? config.logLevel, options.logStream),
    // One line per request, written below, instead of Fastify's two.
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
  // The purge runs while the server does: from listen (or ready) until close, never on import.
  app.addHook('onReady', (done) => {
    services.tokenPurge.start();
    done();
  });
  app.addHook('onClose', () => services.tokenPurge.stop());
  const limits = createQueryLimits(config.graphqlLimits);
  const plugins: ApolloServerPlugin<GraphQLContext>[] = [
    fastifyApolloDrainPlugin(app),
    operationNamePlugin,
    errorLoggingPlugin(app.log),
    retryAfterHeaderPlugin(),
    config.sandbox
      ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
      : ApolloServerPluginLandingPageDisabled(),
  ];
  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema ?? buildSchema(),
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    // Shutdown belongs to src/bin/server.ts; Apollo's own handler would re-raise the signal and kill
    // the process before in-flight requests finish.
    stopOnTerminationSignals: false,
    formatError: createErrorFormatter({
      hideSuggestions: config.isProduction || !config.introspection,
    }),
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    // Both are Apollo's defaults, stated because the protections depend on them: no JSON arrays of
    // operations, and no simple (CORS-safelisted) requests that a browser sends cross-site.
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    logger: app.log,
    plugins,
  });
  await apollo.start();

  const scopes = new WeakMap<FastifyRequest, RequestScope>();
  let closing = false;
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    const scope: RequestScope = { requestId: request.id };
    scopes.set(request, scope);
    runInRequestScope(scope, done);
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    // Answers finished during shutdown also end their keep-alive connection, so the server can
    // close as soon as the last one is out instead of waiting for clients to hang up.
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const line = {
      method: request.method,
      path: pathOf(request.url),
      operation: scopes.get(request)?.operation,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime),
    };
    // Probes arrive every few seconds from every load balancer; they are not news.
    if (PROBE_PATHS.has(line.path)) request.log.debug(line, 'request completed');
    else request.log.info(line, 'request completed');
    done();
  });

  await app.register(fastifyCors, {
    origin: corsOriginMatcher(config.corsOrigins),
    methods: ['GET', 'POST'],
    // Bearer tokens, not cookies: browsers need no credentials mode, only these headers readable.
    exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
  });

  app.get('/health', () => Promise.resolve({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const ready = await database.ping();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable' });
  });
  // With HS256 the key is secret and the set is empty.
  const jwks = JSON.stringify({ keys: config.jwt.verificationKeys.map((key) => key.jwk) });
  app.get('/.well-known/jwks.json', (_request, reply) => {
    return reply
      .header('cache-control', JWKS_CACHE_CONTROL)
      .type('application/json; charset=utf-8')
      .send(jwks);
  });

  await app.register(fastifyApollo(apollo), {
    path: GRAPHQL_PATH,
    method: ['GET', 'POST', 'OPTIONS'],
    context: (request, reply) => {
      const context = buildContext(services, {
        authorization: request.headers.authorization,
        ip: request.ip ?? null,
        userAgent: request.headers['user-agent'],
        requestId: request.id,
      });
      const scope = currentRequestScope();
      if (scope && context.auth.status === 'authenticated') scope.actorId = context.auth.claims.sub;
      if (context.auth.status === 'rejected')
        void reply.header('www-authenticate', INVALID_TOKEN_CHALLENGE);
      return Promise.resolve(context);
    },
  });

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
