import { AuthenticationError } from '../errors';
import type { RefreshTokenTransport } from '../http/refreshTokenTransport';
import type { Services } from '../services';
import type { ClientInfo } from '../sessions/types';
import type { AccessClaims, AccessTokens } from '../tokens/accessTokens';
import type { RequestScope } from '../logging/requestScope';

/** What the request's credentials amount to; decided once per request, never thrown. */
export type RequestAuth =
  | { readonly status: 'anonymous' }
  | { readonly status: 'rejected'; readonly reason: 'INVALID_TOKEN' | 'TOKEN_EXPIRED' }
  | { readonly status: 'authenticated'; readonly claims: AccessClaims };

/** The context every resolver receives. */
export interface GraphQLContext {
  readonly auth: RequestAuth;
  readonly client: ClientInfo;
  readonly services: Services;
  /** Fastify's id of the HTTP request, for log lines about it. */
  readonly requestId: string;
  /**
   * How refresh tokens reach this request's client (docs/sessions.md, "Cookie mode"); only HTTP
   * requests have one, and without it they travel in arguments and bodies.
   */
  readonly refreshTokenTransport?: RefreshTokenTransport;
}

export interface RequestFacts {
  readonly requestId: string;
  /** The HTTP request's scope (src/http/requestLogging.ts), which the services' lines name. */
  readonly scope?: RequestScope;
  readonly authorization: string | undefined;
  readonly ip: string | null;
  readonly userAgent: string | undefined;
}

const ANONYMOUS: RequestAuth = Object.freeze({ status: 'anonymous' });
const MAX_USER_AGENT_LENGTH = 512;

/**
 * Turns an `Authorization` header into a {@link RequestAuth}. Only the Bearer scheme counts
 * (RFC 6750 §2.1, scheme matched case-insensitively); a bad token marks the request rejected
 * rather than failing it, so public fields keep working.
 */
export function authenticate(
  authorization: string | undefined,
  accessTokens: AccessTokens,
): RequestAuth {
  if (!authorization) return ANONYMOUS;
  const match = /^Bearer(?:\s+(.*))?$/i.exec(authorization.trim());
  if (!match) return ANONYMOUS;
  const token = match[1]?.trim() ?? '';
  if (token === '') return { status: 'rejected', reason: 'INVALID_TOKEN' };
  try {
    return { status: 'authenticated', claims: accessTokens.verify(token) };
  } catch (error) {
    const reason =
      error instanceof AuthenticationError && error.reason === 'TOKEN_EXPIRED'
        ? 'TOKEN_EXPIRED'
        : 'INVALID_TOKEN';
    return { status: 'rejected', reason };
  }
}

/** Builds the per-request context. */
export function buildContext(services: Services, request: RequestFacts): GraphQLContext {
  return {
    auth: authenticate(request.authorization, services.accessTokens),
    client: {
      ip: request.ip,
      userAgent: request.userAgent ? request.userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null,
      ...(request.scope ? { request: request.scope } : {}),
    },
    services,
    requestId: request.requestId,
  };
}

/** The verified claims of a request that reached a guarded resolver. */
export function requireClaims(context: GraphQLContext): AccessClaims {
  const { auth } = context;
  if (auth.status === 'authenticated') return auth.claims;
  throw new AuthenticationError(auth.status === 'rejected' ? auth.reason : 'MISSING_TOKEN');
}
