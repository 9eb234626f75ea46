import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/database';

/**
 * `GET /health`: the process answers (liveness). `GET /ready`: the database answers a ping, 503
 * otherwise (readiness), so load balancers stop sending traffic during an outage without the
 * process being restarted (docs/operations.md).
 */
export function registerProbes(app: FastifyInstance, database: Pick<Database, 'ping'>): void {
  app.get('/health', () => Promise.resolve({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const ready = await database.ping();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable' });
  });
}
