import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Kind, print } from 'graphql';
import { createClient, type Client } from 'graphql-ws/client';
import { AuthClientError, type GraphQLErrorEntry } from './authClientError';

/** What a subscriber hears: each result's data, then an error or the end. */
export interface SubscriptionHandlers<TResult> {
  next(data: TResult): void;
  /**
   * The subscription ended for good. `UNAUTHENTICATED` / `SESSION_REVOKED` means the session was
   * revoked elsewhere and the client is now signed out.
   */
  error?(error: AuthClientError): void;
  complete?(): void;
}

/** What the subscriber needs from the auth client it belongs to. */
export interface SubscriberDeps {
  /** The WebSocket endpoint, or a function giving it (resolved when a socket opens). */
  readonly url: string | (() => string);
  /** A WebSocket class: the global one in browsers, `ws` in Node. */
  readonly webSocketImpl?: unknown;
  /** A usable access token (refreshing first when there is none), or null when signed out. */
  accessToken(): Promise<string | null>;
  /** The access token in memory now, without refreshing. */
  currentAccessToken(): string | null;
  /** Gets a new access token unless `rejected` was already replaced. */
  renew(rejected: string | null): Promise<void>;
  /** Forgets every token: the session is gone. */
  signOut(): void;
}

/** The 4401 close of the API (docs/subscriptions.md, "Close codes"). */
const UNAUTHORIZED = 4401;
// Reconnections with a new token in a row without the server accepting one: beyond this,
// something other than expiry is wrong and retrying would only loop.
const MAX_RENEWALS = 3;

interface CloseLike {
  readonly code: number;
  readonly reason: string;
}

function isCloseLike(value: unknown): value is CloseLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'number' &&
    typeof (value as { reason?: unknown }).reason === 'string'
  );
}

function toClientError(problem: unknown): AuthClientError {
  if (problem instanceof AuthClientError) return problem;
  if (Array.isArray(problem))
    return AuthClientError.fromResponse(problem as GraphQLErrorEntry[], 0);
  if (isCloseLike(problem)) {
    return problem.code === UNAUTHORIZED
      ? new AuthClientError(`The API closed the subscription: ${problem.reason}`, {
          code: 'UNAUTHENTICATED',
          reason: problem.reason,
        })
      : new AuthClientError(`The subscription connection closed (${problem.code})`, {
          code: 'NETWORK_ERROR',
        });
  }
  return new AuthClientError('The subscription failed', { code: 'NETWORK_ERROR', cause: problem });
}

/**
 * `subscribe` for an auth client: GraphQL subscriptions over WebSocket (graphql-ws), with the
 * access token in `connection_init`. A socket closed for `TOKEN_EXPIRED` (or `INVALID_TOKEN`, as
 * after a key rotation) reconnects with a renewed token; one closed for `SESSION_REVOKED` signs
 * the client out and stops.
 */
export function createSubscriber(deps: SubscriberDeps) {
  return function subscribe<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables | undefined,
    handlers: SubscriptionHandlers<TResult>,
  ): () => void {
    const operation = document.definitions.find(
      (definition) => definition.kind === Kind.OPERATION_DEFINITION,
    );
    const payload = {
      query: print(document),
      operationName: operation?.name?.value,
      variables: (variables ?? undefined) as Record<string, unknown> | undefined,
    };
    let stopped = false;
    let client: Client | undefined;
    let renewals = 0;

    const finish = (error?: AuthClientError): void => {
      if (stopped) return;
      stopped = true;
      void client?.dispose();
      if (error) handlers.error?.(error);
      else handlers.complete?.();
    };

    const connect = async (): Promise<void> => {
      let token: string | null;
      try {
        token = await deps.accessToken();
      } catch (error) {
        finish(toClientError(error));
        return;
      }
      if (stopped) return;
      const sent = token;
      client = createClient({
        url: deps.url,
        webSocketImpl: deps.webSocketImpl,
        lazy: true,
        // Network drops and server restarts are retried by graphql-ws; 4401 never is.
        retryAttempts: 5,
        connectionParams: () => {
          const current = deps.currentAccessToken() ?? sent;
          return current ? { authorization: `Bearer ${current}` } : {};
        },
        on: {
          connected: () => {
            renewals = 0;
          },
        },
      });
      const own = client;
      client.subscribe<TResult>(payload, {
        next(result) {
          if (result.errors && result.errors.length > 0) {
            finish(AuthClientError.fromResponse(result.errors, 0));
          } else if (result.data) handlers.next(result.data);
        },
        error(problem) {
          void own.dispose();
          if (stopped) return;
          if (isCloseLike(problem) && problem.code === UNAUTHORIZED) {
            if (problem.reason === 'SESSION_REVOKED') {
              deps.signOut();
              finish(toClientError(problem));
              return;
            }
            if (renewals < MAX_RENEWALS) {
              renewals += 1;
              deps.renew(sent).then(connect, (error: unknown) => finish(toClientError(error)));
              return;
            }
          }
          finish(toClientError(problem));
        },
        complete() {
          finish();
        },
      });
    };

    void connect();
    return () => {
      if (stopped) return;
      stopped = true;
      void client?.dispose();
    };
  };
}

/** The WebSocket URL for an HTTP GraphQL URL, relative ones resolved against the page. */
export function webSocketUrlFor(httpUrl: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const url = new URL(httpUrl, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}
