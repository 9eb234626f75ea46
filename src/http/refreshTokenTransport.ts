import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthResult } from '../accounts/authentication';
import { ForbiddenError } from '../errors';
import { newCsrfToken, verifiedCsrfToken } from './csrf';
import {
  clearRefreshCookies,
  REFRESH_COOKIE,
  requestCookie,
  setRefreshCookies,
} from './refreshCookie';

/**
 * What `AuthPayload` shows of a sign-in: `refreshToken` is null in cookie mode, where the token
 * travels only in the HttpOnly cookie (docs/api.md, "AuthPayload").
 */
export interface AuthPayloadResult extends Omit<AuthResult, 'refreshToken'> {
  readonly refreshToken: string | null;
}

/**
 * How refresh tokens travel between the API and one request's client: in GraphQL arguments and
 * the response body (the default), or in the `__Host-refresh_token` cookie when
 * REFRESH_TOKEN_COOKIE is on (docs/sessions.md, "Cookie mode").
 */
export interface RefreshTokenTransport {
  /**
   * The refresh token a `refreshToken` or `logout` call acts on: its argument when given; else, in
   * cookie mode, the cookie, once the request passes the CSRF check (FORBIDDEN /
   * CSRF_CHECK_FAILED otherwise). Null when the client sent none.
   */
  presented(argument: string | null | undefined): string | null;
  /** Hands a sign-in's refresh token to the client: in the body, or as cookies with null there. */
  deliver(result: AuthResult): AuthPayloadResult;
  /** The calling session ended: in cookie mode the browser is told to drop both cookies. */
  clear(): void;
}

/** Refresh tokens in arguments and response bodies, for API clients. */
export const BODY_TRANSPORT: RefreshTokenTransport = Object.freeze({
  presented: (argument: string | null | undefined) => argument ?? null,
  deliver: (result: AuthResult) => result,
  clear: () => undefined,
});

/**
 * The cookie transport of one request. A refresh keeps the CSRF token the request proved it
 * holds, so that a second tab that read it a moment earlier still sends the current one; every
 * new session gets a new one.
 */
export function createCookieTransport(
  request: FastifyRequest,
  reply: FastifyReply,
  allowedOrigins: readonly string[],
): RefreshTokenTransport {
  let provenCsrfToken: string | null = null;
  return {
    presented(argument) {
      if (argument !== null && argument !== undefined) return argument;
      const cookie = requestCookie(request, REFRESH_COOKIE);
      if (cookie === undefined) return null;
      // Checked before anything is looked up, so a refused request changes nothing.
      provenCsrfToken = verifiedCsrfToken(request, allowedOrigins);
      if (provenCsrfToken === null) throw new ForbiddenError('CSRF_CHECK_FAILED');
      return cookie;
    },
    deliver(result) {
      setRefreshCookies(
        reply,
        result.refreshToken,
        provenCsrfToken ?? newCsrfToken(),
        result.refreshTokenExpiresAt,
      );
      return { ...result, refreshToken: null };
    },
    clear() {
      clearRefreshCookies(reply);
    },
  };
}
