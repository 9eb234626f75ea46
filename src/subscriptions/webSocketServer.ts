import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import {
  GraphQLError,
  OperationTypeNode,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { makeServer, type Context } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config';
import { AuthenticationError, ErrorCode, InternalError } from '../errors';
import { authenticate, type GraphQLContext, type RequestAuth } from '../graphql/context';
import { createErrorFormatter } from '../graphql/errorFormatter';
import { createQueryLimits } from '../graphql/plugins/queryLimits';
import { GRAPHQL_PATH } from '../graphql/route';
import type { Services } from '../services';
import { CloseCode, TOO_MANY_CONNECTIONS } from './closeCodes';
import { createConnectionRegistry, type ConnectionRegistry } from './connectionRegistry';
import { clientAddressResolver, originChecker } from './upgradeGate';

/** What graphql-ws keeps per socket besides its own state. */
type ConnectionExtra = {
  readonly socket: WebSocket;
  readonly id: string;
  readonly ip: string;
  readonly userAgent: string | null;
  auth: RequestAuth;
  /** Stops tracking the socket in the registry (authenticated sockets only). */
  release?: () => void;
};

type ConnectionContext = Context<Record<string, unknown> | undefined, ConnectionExtra>;

export interface SubscriptionServer {
  /** Serves WebSocket upgrades of `server` at /graphql. */
  attach(server: HttpServer): void;
  /** Open sockets. */
  size(): number;
  readonly registry: ConnectionRegistry;
  /** Refuses new sockets, closes the open ones with 1001 and stops the session checks. */
  close(): Promise<void>;
}

export interface SubscriptionServerDeps {
  readonly config: Config;
  readonly schema: GraphQLSchema;
  readonly services: Services;
  readonly logger: FastifyBaseLogger;
}

// graphql-ws's default: a ping every 12 s, and a socket that misses the pong is cut.
const KEEPALIVE_MS = 12_000;
// How long sockets get to close cleanly at shutdown before they are cut.
const CLOSE_GRACE_MS = 1000;
const MAX_USER_AGENT_LENGTH = 512;
const ANONYMOUS: RequestAuth = Object.freeze({ status: 'anonymous' });

/**
 * The `authorization` entry of a `connection_init` payload, whatever its case: undefined when
 * there is none, null when it is not a string.
 */
export function authorizationParam(
  params: Readonly<Record<string, unknown>> | undefined,
): string | null | undefined {
  for (const [key, value] of Object.entries(params ?? {})) {
    if (key.toLowerCase() === 'authorization') return typeof value === 'string' ? value : null;
  }
  return undefined;
}

function requestError(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { code },
  });
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * GraphQL subscriptions over WebSocket (graphql-ws's `graphql-transport-ws` protocol on `ws`) on
 * the API's own HTTP server, at /graphql (docs/subscriptions.md). The `connection_init` payload
 * carries the bearer token, decided by the same code as the HTTP header; documents pass the same
 * limits as over HTTP; errors are formatted and masked the same way.
 */
export function createSubscriptionServer(deps: SubscriptionServerDeps): SubscriptionServer {
  const { config, schema, services, logger } = deps;
  const limits = config.subscriptions;
  const queryLimits = createQueryLimits(config.graphqlLimits);
  const rules = [...specifiedRules, ...queryLimits.validationRules];
  const formatError = createErrorFormatter({
    hideSuggestions: config.isProduction || !config.introspection,
  });
  const originAllowed = originChecker(config.corsOrigins);
  const addressOf = clientAddressResolver(config.trustProxy);
  const registry = createConnectionRegistry({
    users: services.users,
    bus: services.events,
    logger,
    sessionCheckIntervalMs: limits.sessionCheckIntervalMs,
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
  const sockets = new Set<WebSocket>();
  const perIp = new Map<string, number>();
  let closing = false;

  function format(errors: readonly GraphQLError[], connectionId: string): GraphQLFormattedError[] {
    return errors.map((error) => {
      const formatted = formatError(error.toJSON(), error);
      if (formatted.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR) {
        const original = error.originalError ?? error;
        if (!(original instanceof InternalError))
          logger.error({ err: original, connectionId }, 'subscription error');
      }
      return formatted;
    });
  }

  async function onConnect(ctx: ConnectionContext): Promise<boolean> {
    const { extra } = ctx;
    const authorization = authorizationParam(ctx.connectionParams);
    const auth: RequestAuth =
      authorization === null
        ? { status: 'rejected', reason: 'INVALID_TOKEN' }
        : authenticate(authorization, services.accessTokens);
    if (auth.status === 'rejected') {
      // Closing first makes graphql-ws's own 4403 for `false` a no-op: the client sees 4401.
      extra.socket.close(CloseCode.UNAUTHORIZED, auth.reason);
      return false;
    }
    extra.auth = auth;
    if (auth.status === 'anonymous') return true;
    const { claims } = auth;
    if (registry.countOf(claims.sub) >= limits.maxConnectionsPerUser) {
      extra.socket.close(CloseCode.TOO_MANY_CONNECTIONS, TOO_MANY_CONNECTIONS);
      return false;
    }
    extra.release = registry.add({
      userId: claims.sub,
      sessionId: claims.sid,
      expiresAt: claims.exp * 1000,
      close: (code, reason) => extra.socket.close(code, reason),
    });
    try {
      await services.users.current(claims);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        extra.socket.close(CloseCode.UNAUTHORIZED, 'SESSION_REVOKED');
        return false;
      }
      // The database is away: the subscription's own check fails closed, and the sweep re-checks.
      logger.warn({ err: error, connectionId: extra.id }, 'subscription session check failed');
    }
    return true;
  }

  const server = makeServer<Record<string, unknown> | undefined, ConnectionExtra>({
    schema,
    connectionInitWaitTimeout: limits.initTimeoutMs,
    onConnect,
    onSubscribe(ctx, _id, payload) {
      let document: DocumentNode;
      try {
        document = parse(payload.query, queryLimits.parseOptions);
      } catch (error) {
        if (error instanceof GraphQLError) return [requestError(error, 'GRAPHQL_PARSE_FAILED')];
        throw error;
      }
      const invalid = validate(schema, document, rules);
      if (invalid.length > 0)
        return invalid.map((error) => requestError(error, 'GRAPHQL_VALIDATION_FAILED'));
      const operation = getOperationAST(document, payload.operationName);
      if (!operation) {
        return [
          new GraphQLError('Unable to identify the operation to run.', {
            extensions: { code: 'BAD_REQUEST' },
          }),
        ];
      }
      // Queries and mutations belong on HTTP, where CSRF protection, throttling by request and
      // per-request logging apply (docs/subscriptions.md, "Protocol").
      if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
        return [
          new GraphQLError(
            'Only subscriptions are served over WebSocket; send queries and mutations over HTTP.',
            {
              extensions: { code: 'BAD_REQUEST' },
            },
          ),
        ];
      }
      const contextValue: GraphQLContext = {
        auth: ctx.extra.auth,
        client: { ip: ctx.extra.ip, userAgent: ctx.extra.userAgent },
        services,
        requestId: ctx.extra.id,
      };
      return {
        schema,
        document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue,
      };
    },
    onNext(ctx, _id, _payload, _args, result) {
      if (!result.errors) return undefined;
      return { ...result, errors: format(result.errors, ctx.extra.id) };
    },
    onError(ctx, _id, _payload, errors) {
      return format(errors, ctx.extra.id);
    },
  });

  function accept(socket: WebSocket, request: IncomingMessage, ip: string): void {
    sockets.add(socket);
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
    const userAgent = request.headers['user-agent'];
    const extra: ConnectionExtra = {
      socket,
      id: randomUUID(),
      ip,
      userAgent: userAgent ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null,
      auth: ANONYMOUS,
    };
    // ws closes the socket itself on protocol errors (an oversized message gets 1009).
    socket.on('error', (error) =>
      logger.debug({ err: error, connectionId: extra.id }, 'websocket error'),
    );
    let pongWait: NodeJS.Timeout | undefined;
    const keepAlive = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), KEEPALIVE_MS);
      pongWait.unref();
      socket.once('pong', () => clearTimeout(pongWait));
      socket.ping();
    }, KEEPALIVE_MS);
    keepAlive.unref();

    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data: Buffer) => {
            handle(data.toString('utf8')).catch((error: unknown) => {
              logger.error({ err: error, connectionId: extra.id }, 'subscription message failed');
              socket.close(CloseCode.INTERNAL_ERROR, 'Internal server error');
            });
          }),
      },
      extra,
    );
    socket.once('close', (code: number, reason: Buffer) => {
      clearInterval(keepAlive);
      clearTimeout(pongWait);
      sockets.delete(socket);
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
      extra.release?.();
      closed(code, reason.toString('utf8')).catch((error: unknown) =>
        logger.warn({ err: error, connectionId: extra.id }, 'subscription clean-up failed'),
      );
    });
  }

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (request.url ?? '').split('?')[0];
    if (path !== GRAPHQL_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (closing) return refuseUpgrade(socket, 503, 'Service Unavailable');
    if (!originAllowed(request.headers.origin)) return refuseUpgrade(socket, 403, 'Forbidden');
    const ip = addressOf(request);
    if ((perIp.get(ip) ?? 0) >= limits.maxConnectionsPerIp)
      return refuseUpgrade(socket, 429, 'Too Many Requests');
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws, request, ip));
  }

  return {
    attach(httpServer) {
      httpServer.on('upgrade', onUpgrade);
      registry.start();
    },
    size: () => sockets.size,
    registry,
    async close() {
      closing = true;
      await registry.stop();
      for (const socket of sockets) socket.close(CloseCode.GOING_AWAY, 'Server shutting down');
      const deadline = Date.now() + CLOSE_GRACE_MS;
      while (sockets.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const socket of sockets) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
