import type { FastifyInstance } from 'fastify';
import type { JwtConfig } from '../config';

export const JWKS_PATH = '/.well-known/jwks.json';
// Verifiers may cache the key set this long; a new key is published before it signs anything.
const JWKS_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=60';

/**
 * Publishes the public verification keys as a JWKS (RFC 7517) for other services that verify
 * our access tokens (docs/keys.md). With HS256 the key is secret and the set is empty.
 */
export function registerJwks(app: FastifyInstance, jwt: Pick<JwtConfig, 'verificationKeys'>): void {
  const body = JSON.stringify({ keys: jwt.verificationKeys.map((key) => key.jwk) });
  app.get(JWKS_PATH, (_request, reply) => {
    return reply
      .header('cache-control', JWKS_CACHE_CONTROL)
      .type('application/json; charset=utf-8')
      .send(body);
  });
}
