import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The refresh token in cookie mode (docs/sessions.md, "Cookie mode"). `__Host-` makes the browser
 * insist on Secure, Path=/ and no Domain, so neither a sibling subdomain nor plain HTTP can plant
 * or overwrite it.
 */
export const REFRESH_COOKIE = '__Host-refresh_token';
/** The double-submit CSRF token: readable by the page's script, which echoes it in a header. */
export const CSRF_COOKIE = '__Host-csrf_token';
/** The header a request that relies on the refresh cookie repeats the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

// HttpOnly keeps the refresh token away from script (and so from XSS); SameSite=Strict keeps it
// off every cross-site request. Chromium and Firefox count http://localhost as secure, so
// `Secure` does not stop local development (docs/frontend.md, "Cookie mode").
const ATTRIBUTES = 'Path=/; Secure; SameSite=Strict';

// Two cookies whose values are all token characters need no general cookie library; and
// @fastify/cookie loads its parser through a dynamic ESM import that CommonJS runtimes such as
// the test runner's cannot follow.

/** A cookie the request carries, or undefined; the first one wins if a name repeats. */
export function requestCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) {
      const value = part.slice(separator + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

function appendSetCookie(reply: FastifyReply, lines: readonly string[]): void {
  const existing = reply.getHeader('set-cookie');
  const previous =
    existing === undefined ? [] : Array.isArray(existing) ? existing : [`${existing}`];
  void reply.header('set-cookie', [...previous, ...lines]);
}

/**
 * Sets the refresh cookie and its CSRF companion, both for the token's remaining life, so that the
 * browser drops them when the token would stop working anyway.
 */
export function setRefreshCookies(
  reply: FastifyReply,
  refreshToken: string,
  csrfToken: string,
  expiresAt: Date,
): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  appendSetCookie(reply, [
    `${REFRESH_COOKIE}=${refreshToken}; Max-Age=${maxAge}; ${ATTRIBUTES}; HttpOnly`,
    `${CSRF_COOKIE}=${csrfToken}; Max-Age=${maxAge}; ${ATTRIBUTES}`,
  ]);
}

/** Tells the browser to forget both cookies (the session they held ended). */
export function clearRefreshCookies(reply: FastifyReply): void {
  const gone = 'Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  appendSetCookie(reply, [
    `${REFRESH_COOKIE}=; ${gone}; ${ATTRIBUTES}; HttpOnly`,
    `${CSRF_COOKIE}=; ${gone}; ${ATTRIBUTES}`,
  ]);
}
