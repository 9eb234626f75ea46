import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pathOf } from '../logging/logger';
import { runInRequestScope, type RequestScope } from '../logging/requestScope';
import { REQUEST_ID_HEADER } from './requestId';

const PROBE_PATHS = new Set(['/health', '/ready']);

/**
 * Gives every request a scope (its id, later its caller and operation) that log lines written
 * while serving it pick up, echoes the id in `x-request-id`, and writes one line per request when
 * it completes: method, path without the query string, operation name, status and duration.
 */
export function registerRequestLogging(app: FastifyInstance): void {
  const scopes = new WeakMap<FastifyRequest, RequestScope>();
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    const scope: RequestScope = { requestId: request.id, clientAddress: request.ip };
    scopes.set(request, scope);
    runInRequestScope(scope, done);
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
