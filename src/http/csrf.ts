import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { isListedOrigin } from './corsOrigins';
import { CSRF_COOKIE, CSRF_HEADER, requestCookie } from './refreshCookie';

const CSRF_TOKEN_BYTES = 32;

/** A fresh double-submit token: 256 random bits, base64url. */
export function newCsrfToken(): string {
  return randomBytes(CSRF_TOKEN_BYTES).toString('base64url');
}

function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The API's own origin as the browser names it (scheme, host and port of the request). */
function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/**
 * The CSRF defence of a request that relies on the refresh cookie (docs/security.md, "CSRF"),
 * on top of Apollo's csrfPrevention, which already forces a CORS preflight:
 *
 * - `Origin`, when the browser sends one, is the API's own origin or on CORS_ORIGINS. Pages on
 *   another port of the same host are same-site, so SameSite=Strict alone would not stop them.
 * - Double submit: the `X-CSRF-Token` header equals the `__Host-csrf_token` cookie. Only script
 *   on a page that may read the cookie can copy it into a header, and a header forces the
 *   preflight that CORS refuses to unlisted origins.
 *
 * Returns the verified token (kept across a refresh), or null when the request fails.
 */
export function verifiedCsrfToken(
  request: FastifyRequest,
  allowedOrigins: readonly string[],
): string | null {
  const origin = request.headers.origin;
  if (
    origin !== undefined &&
    origin !== ownOrigin(request) &&
    !isListedOrigin(origin, allowedOrigins)
  )
    return null;
  const cookie = requestCookie(request, CSRF_COOKIE);
  const header = request.headers[CSRF_HEADER];
  if (cookie === undefined || typeof header !== 'string' || header === '') return null;
  return sameToken(cookie, header) ? cookie : null;
}
