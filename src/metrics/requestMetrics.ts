import type { FastifyInstance } from 'fastify';
import type { ApiMetrics } from './metrics';

/**
 * Observes every answered request in the latency histogram. The route is Fastify's route pattern,
 * never the raw URL, so query strings and unknown paths cannot grow the number of series.
 */
export function registerRequestMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestCompleted(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
