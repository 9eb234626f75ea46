import { ApolloServerErrorCode, unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';

/** `extensions.code` values a client can branch on (docs/api.md, "Errors"). */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCodeName = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Why a caller is not authenticated. */
export type AuthenticationReason =
  | 'MISSING_TOKEN'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_REFRESH_TOKEN'
  | 'INVALID_RESET_TOKEN'
  | 'INVALID_VERIFICATION_TOKEN';

/** Why a signed-in caller is not allowed. */
export type ForbiddenReason =
  | 'MISSING_ROLE'
  | 'FRESH_TOKEN_REQUIRED'
  | 'INSUFFICIENT_SCOPE'
  | 'POLICY_DENIED'
  | 'EMAIL_NOT_VERIFIED'
  | 'LAST_ADMIN'
  | 'CSRF_CHECK_FAILED';

/** Why an input was refused. */
export type UserInputReason =
  | 'EMAIL_TAKEN'
  | 'INVALID_EMAIL'
  | 'WEAK_PASSWORD'
  | 'PASSWORD_TOO_LONG'
  | 'INVALID_NAME'
  | 'INVALID_ID'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND';

const AUTHENTICATION_MESSAGES: Readonly<Record<AuthenticationReason, string>> = {
  MISSING_TOKEN: 'You must be signed in to do this.',
  INVALID_TOKEN: 'The access token is invalid.',
  TOKEN_EXPIRED: 'The access token has expired.',
  // One message for unknown email and wrong password, so it says nothing about which emails exist.
  INVALID_CREDENTIALS: 'Invalid email or password.',
  INVALID_REFRESH_TOKEN: 'The refresh token is invalid, expired or revoked. Please sign in again.',
  // Wrong, used, expired and superseded tokens look alike (docs/recovery.md).
  INVALID_RESET_TOKEN:
    'This password reset link is invalid, used or expired. Please ask for a new one.',
  INVALID_VERIFICATION_TOKEN:
    'This verification link is invalid, used or expired. Please ask for a new one.',
};

const FORBIDDEN_MESSAGES: Readonly<Record<ForbiddenReason, string>> = {
  MISSING_ROLE: 'You do not have permission to do this.',
  FRESH_TOKEN_REQUIRED: 'Please sign in again with your password to do this.',
  EMAIL_NOT_VERIFIED: 'Please verify your email address first: follow the link we sent you.',
  INSUFFICIENT_SCOPE: 'Your access token does not carry the scope this needs.',
  POLICY_DENIED: 'You do not have permission to do this.',
  LAST_ADMIN: 'This would leave no administrator. Make another user ADMIN first.',
  // A request that relies on the refresh cookie came from a page that may not use it
  // (docs/sessions.md, "Cookie mode").
  CSRF_CHECK_FAILED: 'This request was refused: it did not pass the cross-site request check.',
};

/**
 * The base of every error a client may see as it is. A subclass states its code and reason in one
 * constructor call; the error formatter passes these through and masks everything else, so "is
 * this ours?" is one `instanceof`.
 */
export abstract class ClientError extends GraphQLError {
  protected constructor(
    message: string,
    readonly code: ErrorCodeName,
    extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message, { extensions: { code, ...extensions } });
    this.name = new.target.name;
  }
}

/** The caller has no usable credentials for this field. */
export class AuthenticationError extends ClientError {
  constructor(readonly reason: AuthenticationReason) {
    super(AUTHENTICATION_MESSAGES[reason], ErrorCode.UNAUTHENTICATED, { reason });
  }
}

/**
 * A refresh token that was already exchanged, presented again (docs/sessions.md, "Reuse
 * detection"). The client sees exactly INVALID_REFRESH_TOKEN, so whoever holds the stale copy
 * learns nothing; the class tells the metrics that the session was revoked for reuse.
 */
export class RefreshTokenReuseError extends AuthenticationError {
  constructor() {
    super('INVALID_REFRESH_TOKEN');
  }
}

/**
 * The caller is signed in but may not do this. `INSUFFICIENT_SCOPE` and `POLICY_DENIED` carry
 * details of their own: throw their subclasses below rather than passing `details` here.
 */
export class ForbiddenError extends ClientError {
  constructor(
    readonly reason: ForbiddenReason,
    details: Readonly<Record<string, unknown>> = {},
  ) {
    super(FORBIDDEN_MESSAGES[reason], ErrorCode.FORBIDDEN, { reason, ...details });
  }
}

/**
 * A scope guard refused the field; `extensions.requiredScopes` is the guard's list of scope sets,
 * any one of which (all its scopes) would have passed (docs/authorization.md).
 */
export class InsufficientScopeError extends ForbiddenError {
  constructor(readonly requiredScopes: readonly (readonly string[])[]) {
    super('INSUFFICIENT_SCOPE', { requiredScopes });
  }
}

/** A named policy refused the field; `extensions.policy` names it. */
export class PolicyDeniedError extends ForbiddenError {
  constructor(readonly policy: string) {
    super('POLICY_DENIED', { policy });
  }
}

/** An argument was refused; `extensions.field` names the input field. */
export class UserInputError extends ClientError {
  constructor(
    readonly reason: UserInputReason,
    readonly field: string,
    message: string,
  ) {
    super(message, ErrorCode.BAD_USER_INPUT, { reason, field });
  }
}

/** Too many attempts; retry after `retryAfter` seconds. */
export class RateLimitedError extends ClientError {
  constructor(readonly retryAfter: number) {
    super(`Too many attempts. Try again in ${retryAfter} seconds.`, ErrorCode.RATE_LIMITED, {
      retryAfter,
    });
  }
}

/** Why a dependency is unavailable for now. */
export type UnavailableReason = 'EVENTS_UNAVAILABLE';

const UNAVAILABLE_MESSAGES: Readonly<Record<UnavailableReason, string>> = {
  EVENTS_UNAVAILABLE: 'Live events are unavailable right now. Try again shortly.',
};

/** A dependency is down for now (the event bus); the rest of the API keeps working. */
export class ServiceUnavailableError extends ClientError {
  constructor(readonly reason: UnavailableReason) {
    super(UNAVAILABLE_MESSAGES[reason], ErrorCode.SERVICE_UNAVAILABLE, { reason });
  }
}

/** Something unexpected: the client sees one generic message and nothing of the cause. */
export class InternalError extends ClientError {
  constructor() {
    super('Internal server error.', ErrorCode.INTERNAL_SERVER_ERROR);
  }
}

// Request-shape errors Apollo raises before execution; their messages describe the client's own
// query and are safe to return.
const REQUEST_ERROR_CODES = new Set<string>([
  ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
  ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
  ApolloServerErrorCode.BAD_USER_INPUT,
  ApolloServerErrorCode.BAD_REQUEST,
  ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_FOUND,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
]);

/**
 * True for Apollo's own errors about the request itself (parse, validation, variable coercion),
 * which never come from a resolver and may be shown as they are.
 */
export function isRequestError(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  const code = error.extensions.code;
  return (
    typeof code === 'string' &&
    REQUEST_ERROR_CODES.has(code) &&
    unwrapResolverError(error) === error
  );
}
