import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pathOf } from '../logging/logger';
import type { RequestScope } from '../logging/requestScope';
import { REQUEST_ID_HEADER } from './requestId';

const PROBE_PATHS = new Set(['/health', '/ready']);

const scopes = new WeakMap<FastifyRequest, RequestScope>();

/** The scope {@link registerRequestLogging} gave `request`; undefined before its first hook. */
export function requestScopeOf(request: FastifyRequest): RequestScope | undefined {
  return scopes.get(request);
}

/**
 * Gives every request a scope (its id, later its caller and operation) that the GraphQL route
 * hands to the services serving it, echoes the id in `x-request-id`, and writes one line per
 * request when it completes: method, path without the query string, operation name, status and
 * duration.
 */
export function registerRequestLogging(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    scopes.set(request, { requestId: request.id });
    done();
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
}
