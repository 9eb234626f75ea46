import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/database';
import type { EventBus } from '../events/eventBus';

/**
 * `GET /health`: the process answers (liveness). `GET /ready`: the database answers a ping, 503
 * otherwise (readiness), so load balancers stop sending traffic during an outage without the
 * process being restarted (docs/operations.md). With REDIS_URL it also reports `redis`; only
 * subscriptions need Redis, so its outage does not make the instance unready.
 */
export function registerProbes(
  app: FastifyInstance,
  database: Pick<Database, 'ping'>,
  events?: Pick<EventBus, 'health'>,
): void {
  app.get('/health', () => Promise.resolve({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const ready = await database.ping();
    const bus = events?.health();
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'unavailable',
      ...(bus?.kind === 'redis' ? { redis: bus.ready ? 'ready' : 'unavailable' } : {}),
    });
  });
}
