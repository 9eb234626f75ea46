import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode, unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { createAuditLog } from './audit';
import type { Config, LogLevel } from './config';
import { buildContext, type GraphQLContext } from './context';
import type { Database } from './db';
import { InternalError, isClientError } from './errors';
import { loggerOptions, pathOf, type LogStream } from './logger';
import { REQUEST_ID_HEADER, requestIdFrom } from './requestId';
import { currentRequestScope, runInRequestScope, type RequestScope } from './requestScope';
import { buildSchema } from './schema';
import { createServices, type Services } from './services';

export interface ServerOptions {
  readonly database: Database;
  /** Replaces the API schema (tests of the directive use their own). */
  readonly schema?: GraphQLSchema;
  /** Pino log level (LOG_LEVEL by default); `silent` in tests. */
  readonly logLevel?: LogLevel;
  /** Where JSON log lines go; stdout by default. */
  readonly logStream?: LogStream;
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
// Request-shape errors Apollo raises before execution; their messages describe the client's own
// query and are safe to return.
const REQUEST_ERROR_CODES = new Set<string>([
  ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
  ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
  ApolloServerErrorCode.BAD_USER_INPUT,
  ApolloServerErrorCode.BAD_REQUEST,
  ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_FOUND,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
]);

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

/** Returns our own errors as they are and masks everything else (DESIGN §2). */
export function createErrorFormatter(logger: FastifyBaseLogger) {
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
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code) && original === error) {
      const extensions = { ...formatted.extensions };
      delete extensions.stacktrace;
      return { ...formatted, extensions };
    }
    logger.error(
      { err: original, path: formatted.path, reqId: currentRequestScope()?.requestId },
      'unexpected error while resolving',
    );
    const masked = new InternalError();
    return {
      message: masked.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: masked.extensions,
    };
  };
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
    bodyLimit: 256 * 1024,
    trustProxy: false,
  });
  const services = createServices(config, database.models, createAuditLog(app.log));
  const plugins: ApolloServerPlugin<GraphQLContext>[] = [
    fastifyApolloDrainPlugin(app),
    operationNamePlugin,
    config.sandbox
      ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
      : ApolloServerPluginLandingPageDisabled(),
  ];
  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema ?? buildSchema(),
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    // Shutdown belongs to src/index.ts; Apollo's own handler would re-raise the signal and kill
    // the process before in-flight requests finish.
    stopOnTerminationSignals: false,
    formatError: createErrorFormatter(app.log),
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

  app.get('/health', () => Promise.resolve({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const ready = await database.ping();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable' });
  });
  app.get('/.well-known/jwks.json', (_request, reply) => {
    // HS256 keys are secret: nothing to publish.
    return reply.header('cache-control', 'public, max-age=300').send({ keys: [] });
  });

  await app.register(fastifyApollo(apollo), {
    path: GRAPHQL_PATH,
    method: ['GET', 'POST', 'OPTIONS'],
    context: (request, reply) => {
      const context = buildContext(services, {
        authorization: request.headers.authorization,
        ip: request.ip ?? null,
        userAgent: request.headers['user-agent'],
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
