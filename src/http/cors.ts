import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { corsOriginMatcher, isListedOrigin } from './corsOrigins';

export interface CorsOptions {
  /**
   * REFRESH_TOKEN_COOKIE: browsers may send cookies, so listed origins are answered with
   * `Access-Control-Allow-Credentials` (and only they: docs/sessions.md, "Cookie mode").
   */
  readonly credentials: boolean;
}

/** CORS for the browser origins of CORS_ORIGINS (docs/security.md); others get no CORS headers. */
export async function registerCors(
  app: FastifyInstance,
  origins: readonly string[],
  options: CorsOptions = { credentials: false },
): Promise<void> {
  const base: FastifyCorsOptions = {
    origin: corsOriginMatcher(origins),
    methods: ['GET', 'POST'],
    // Bearer tokens need no credentials mode, only these headers readable.
    exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
  };
  if (!options.credentials) {
    await app.register(fastifyCors, base);
    return;
  }
  // @fastify/cors would send the credentials header to every origin, listed or not.
  await app.register(fastifyCors, {
    delegator: (request, callback) => {
      const origin = request.headers.origin;
      callback(null, {
        ...base,
        credentials: origin !== undefined && isListedOrigin(origin, origins),
      });
    },
  });
}
