import type { ApolloServer } from '@apollo/server';
import fastifyApollo from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import { BODY_TRANSPORT, createCookieTransport } from '../http/refreshTokenTransport';
import { requestScopeOf } from '../http/requestLogging';
import type { Services } from '../services';
import { buildContext, type GraphQLContext } from './context';

export const GRAPHQL_PATH = '/graphql';
/** RFC 6750 §3.1: tells the client its bearer token was rejected. */
const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';

export interface GraphQLRouteOptions {
  /** REFRESH_TOKEN_COOKIE: refresh tokens travel in cookies (docs/sessions.md, "Cookie mode"). */
  readonly refreshTokenCookie: boolean;
  /** CORS_ORIGINS, which a cookie-borne request's `Origin` must be on (or the API's own). */
  readonly corsOrigins: readonly string[];
}

/**
 * Serves `apollo` at /graphql (GET for queries, POST, and CORS preflight). Each request's context
 * comes from its bearer header; a rejected token adds `WWW-Authenticate` to the answer.
 */
export async function registerGraphQLRoute(
  app: FastifyInstance,
  apollo: ApolloServer<GraphQLContext>,
  services: Services,
  options: GraphQLRouteOptions,
): Promise<void> {
  await app.register(fastifyApollo(apollo), {
    path: GRAPHQL_PATH,
    method: ['GET', 'POST', 'OPTIONS'],
    context: (request, reply) => {
      const scope = requestScopeOf(request);
      const context = buildContext(services, {
        authorization: request.headers.authorization,
        ip: request.ip ?? null,
        userAgent: request.headers['user-agent'],
        requestId: request.id,
        scope,
      });
      if (scope && context.auth.status === 'authenticated') scope.actorId = context.auth.claims.sub;
      // Answers carry tokens and personal data: no cache may keep them (RFC 6749 §5.1). Apollo's
      // cache-control plugin, which would say so, is off (src/graphql/apollo.ts).
      void reply.header('cache-control', 'no-store');
      if (context.auth.status === 'rejected')
        void reply.header('www-authenticate', INVALID_TOKEN_CHALLENGE);
      const refreshTokenTransport = options.refreshTokenCookie
        ? createCookieTransport(request, reply, options.corsOrigins)
        : BODY_TRANSPORT;
      return Promise.resolve({ ...context, refreshTokenTransport });
    },
  });
}
