/**
 * WebSocket close codes and reasons of the subscription endpoint (docs/subscriptions.md, "Close
 * codes"). 4401 is graphql-ws's "Unauthorized", which its client does not retry: the client must
 * get a new access token (or sign in again) first.
 */
export const CloseCode = {
  /** The access token was refused, ran out, or its session ended. */
  UNAUTHORIZED: 4401,
  /** Too many sockets for this user. */
  TOO_MANY_CONNECTIONS: 4429,
  /** The server is shutting down (RFC 6455 §7.4.1). */
  GOING_AWAY: 1001,
  /** A bug on our side (graphql-ws's internal error code). */
  INTERNAL_ERROR: 4500,
} as const;

/** The reason sent with 4401: which one tells the client whether a refresh can help. */
export type UnauthorizedReason = 'INVALID_TOKEN' | 'TOKEN_EXPIRED' | 'SESSION_REVOKED';

export const TOO_MANY_CONNECTIONS = 'TOO_MANY_CONNECTIONS';
