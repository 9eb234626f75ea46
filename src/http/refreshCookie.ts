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
const ATTRIBUTES = { path: '/', secure: true, sameSite: 'strict' } as const;

/** The cookies of a request, as @fastify/cookie parsed them. */
export function requestCookie(request: FastifyRequest, name: string): string | undefined {
  const value = request.cookies[name];
  return value === undefined || value === '' ? undefined : value;
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
  void reply.setCookie(REFRESH_COOKIE, refreshToken, { ...ATTRIBUTES, httpOnly: true, maxAge });
  void reply.setCookie(CSRF_COOKIE, csrfToken, { ...ATTRIBUTES, httpOnly: false, maxAge });
}

/** Tells the browser to forget both cookies (the session they held ended). */
export function clearRefreshCookies(reply: FastifyReply): void {
  void reply.clearCookie(REFRESH_COOKIE, { ...ATTRIBUTES, httpOnly: true });
  void reply.clearCookie(CSRF_COOKIE, { ...ATTRIBUTES, httpOnly: false });
}
