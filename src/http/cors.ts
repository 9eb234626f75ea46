import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { corsOriginMatcher } from './corsOrigins';

/** CORS for the browser origins of CORS_ORIGINS (docs/security.md); others get no CORS headers. */
export async function registerCors(
  app: FastifyInstance,
  origins: readonly string[],
): Promise<void> {
  await app.register(fastifyCors, {
    origin: corsOriginMatcher(origins),
    methods: ['GET', 'POST'],
    // Bearer tokens, not cookies: browsers need no credentials mode, only these headers readable.
    exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
  });
}
