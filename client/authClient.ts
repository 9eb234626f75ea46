import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { AuthClientError } from './authClientError';
import {
  ChangePasswordDocument,
  LoginDocument,
  LogoutDocument,
  RefreshTokenDocument,
  RegisterDocument,
  RequestEmailVerificationDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
  VerifyEmailDocument,
  type AuthPayloadFieldsFragment,
  type LoginInput,
  type RegisterInput,
  type UserFieldsFragment,
} from './generated/graphql';
import { cookieTokenStorage, csrfHeaders } from './cookieSession';
import { postGraphQL, type CookieCredentials, type FetchLike } from './postGraphQL';
import { defaultRefreshLock, type RefreshLock } from './refreshLock';
import { createSubscriber, webSocketUrlFor, type SubscriptionHandlers } from './subscriptions';
import { defaultTokenStorage, type TokenStorage } from './tokenStorage';

export type { SubscriptionHandlers } from './subscriptions';

export interface AuthClientOptions {
  /** The GraphQL endpoint. Default `/graphql`: the page's own origin (see the README on CORS). */
  readonly url?: string;
  /**
   * Where the refresh token travels: `body` (default), in arguments and responses, kept in
   * `storage`; or `cookie`, for an API with REFRESH_TOKEN_COOKIE on: the browser holds it in an
   * HttpOnly cookie, requests go with `credentials: 'include'` and the `X-CSRF-Token` header, and
   * nothing is stored (docs/frontend.md, "Cookie mode").
   */
  readonly refreshTokenIn?: 'body' | 'cookie';
  /**
   * Where the refresh token is kept in body mode. Default: `localStorage` in a browser, memory
   * elsewhere. Not used in cookie mode.
   */
  readonly storage?: TokenStorage;
  /** Default: the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Serialises refreshes. Default: the Web Locks API (all tabs), else this client alone. */
  readonly lock?: RefreshLock;
  /**
   * Refresh before a call when the access token has fewer seconds than this left by the local
   * clock (but never in the first half of its life). Default: off; the client refreshes when the
   * API answers `TOKEN_EXPIRED`.
   */
  readonly refreshAheadSeconds?: number;
  /**
   * The WebSocket endpoint of subscriptions. Default: `url` with `ws:` or `wss:` (a relative `url`
   * is resolved against the page).
   */
  readonly webSocketUrl?: string;
  /** The WebSocket class. Default: the global `WebSocket` (browsers, Node 22+); in Node 20 `ws`. */
  readonly webSocketImpl?: unknown;
}

/** Variables are optional exactly when the operation declares none that are required. */
export type VariablesArgument<TVariables> =
  Record<string, never> extends TVariables ? [variables?: TVariables] : [variables: TVariables];

export interface AuthClient {
  /** Creates an account and signs in; resolves to the new user. */
  register(input: RegisterInput): Promise<UserFieldsFragment>;
  /** Signs in with a password; resolves to the user. */
  login(input: LoginInput): Promise<UserFieldsFragment>;
  /**
   * Sends any operation with the current access token, refreshing it once and retrying when the
   * API rejects it. Rejects with an {@link AuthClientError}; after a rejected refresh token the
   * client is signed out ({@link AuthClient.isSignedIn} is false).
   */
  request<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    ...variables: VariablesArgument<TVariables>
  ): Promise<TResult>;
  /**
   * Asks for a password reset mail. Resolves to true for any well-formed address: the API does
   * not say whether an account has it (docs/recovery.md).
   */
  requestPasswordReset(email: string): Promise<boolean>;
  /**
   * Sets a new password with the token of a reset link; the API ends every session and this
   * client is signed in to a new one. Rejects with INVALID_RESET_TOKEN for a bad link.
   */
  resetPassword(token: string, newPassword: string): Promise<UserFieldsFragment>;
  /** Asks for a new verification mail for the signed-in user's address. */
  requestEmailVerification(): Promise<boolean>;
  /**
   * Confirms an address with the token of a verification link; needs no sign-in. Rejects with
   * INVALID_VERIFICATION_TOKEN for a bad link.
   */
  verifyEmail(token: string): Promise<UserFieldsFragment>;
  /** Changes the password; the API ends every session and this client continues in a new one. */
  changePassword(currentPassword: string, newPassword: string): Promise<UserFieldsFragment>;
  /**
   * Forgets the tokens and revokes the session on the server. Resolves to whether the server
   * confirmed; the client is signed out either way.
   */
  logout(): Promise<boolean>;
  /**
   * Subscribes over WebSocket (docs/subscriptions.md); returns the way to stop. The socket is
   * reopened with a new access token when the old one expires; when the session is revoked
   * elsewhere, the client signs out and `handlers.error` gets `SESSION_REVOKED`.
   */
  subscribe<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables | undefined,
    handlers: SubscriptionHandlers<TResult>,
  ): () => void;
  /** Whether a refresh token is stored, that is whether calls may still succeed without a login. */
  isSignedIn(): boolean;
  /** Calls `listener` when the client becomes signed in or signed out; returns an unsubscribe. */
  onChange(listener: (signedIn: boolean) => void): () => void;
}

const REFRESH_LOCK_NAME = 'graphql-jwt-auth:refresh';

interface AccessToken {
  readonly token: string;
  /**
   * Local clock, milliseconds: when to refresh ahead of expiry, or never. Counted from `expiresIn`
   * on arrival, so a skewed clock does not matter.
   */
  readonly refreshAt: number;
}

/** Reasons for which a fresh access token may help: it ran out, or its key or session is gone. */
function isRejectedAccessToken(error: unknown): boolean {
  return (
    error instanceof AuthClientError &&
    error.code === 'UNAUTHENTICATED' &&
    (error.reason === 'TOKEN_EXPIRED' || error.reason === 'INVALID_TOKEN')
  );
}

/**
 * A small, framework-free client for the API's auth flow: access token in memory, refresh token in
 * `storage`, one shared refresh at a time, typed by the documents `npm run codegen` generates.
 */
export function createAuthClient(options: AuthClientOptions = {}): AuthClient {
  const url = options.url ?? '/graphql';
  const inCookie = options.refreshTokenIn === 'cookie';
  const storage = inCookie ? cookieTokenStorage() : (options.storage ?? defaultTokenStorage());
  const cookies: CookieCredentials | undefined = inCookie ? { headers: csrfHeaders } : undefined;
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const lock = options.lock ?? defaultRefreshLock();
  const refreshAheadMs =
    options.refreshAheadSeconds === undefined ? undefined : options.refreshAheadSeconds * 1000;
  const listeners = new Set<(signedIn: boolean) => void>();

  let access: AccessToken | null = null;
  let refreshing: Promise<void> | null = null;
  let signedIn = storage.get() !== null;

  function setSignedIn(value: boolean): void {
    if (signedIn === value) return;
    signedIn = value;
    for (const listener of [...listeners]) listener(value);
  }

  function send<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables | undefined,
    accessToken?: string,
  ): Promise<TResult> {
    return postGraphQL(fetchFn, url, document, variables, accessToken, cookies);
  }

  // The new refresh token replaces the old one at once: the old one is dead from now on. In
  // cookie mode the browser has replaced it already.
  function accept(payload: AuthPayloadFieldsFragment): UserFieldsFragment {
    if (!inCookie) {
      if (payload.refreshToken === null) {
        throw new AuthClientError(
          "The API keeps refresh tokens in a cookie: create the client with refreshTokenIn: 'cookie'",
          { code: 'BAD_RESPONSE' },
        );
      }
      storage.set(payload.refreshToken);
    }
    const lifetimeMs = payload.expiresIn * 1000;
    // Half the lifetime at least, so a lead longer than the token lives cannot refresh every call.
    const refreshAt =
      refreshAheadMs === undefined
        ? Infinity
        : Date.now() + Math.max(lifetimeMs - refreshAheadMs, lifetimeMs / 2);
    access = { token: payload.accessToken, refreshAt };
    setSignedIn(true);
    return payload.user;
  }

  function forget(): void {
    access = null;
    storage.clear();
    setSignedIn(false);
  }

  async function rotate(): Promise<void> {
    // Read inside the lock: another tab may have rotated the token since this one last looked.
    const refreshToken = storage.get();
    if (refreshToken === null) {
      access = null;
      setSignedIn(false);
      throw new AuthClientError('Not signed in', {
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_REFRESH_TOKEN',
      });
    }
    try {
      const data = await send(RefreshTokenDocument, inCookie ? {} : { refreshToken });
      accept(data.refreshToken);
    } catch (error) {
      if (error instanceof AuthClientError && error.reason === 'INVALID_REFRESH_TOKEN') {
        // Keep a token another tab stored meanwhile (a new login there); drop only the dead one.
        if (storage.get() === refreshToken) forget();
        else access = null;
      }
      throw error;
    }
  }

  // Every caller that needs a new access token while a refresh is running waits for that one:
  // presenting the same refresh token twice would count as reuse and end the session.
  function refresh(): Promise<void> {
    refreshing ??= lock(REFRESH_LOCK_NAME, rotate).finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  function shouldRefreshFirst(): boolean {
    if (access === null) return storage.get() !== null;
    return Date.now() >= access.refreshAt;
  }

  async function request<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables?: TVariables,
  ): Promise<TResult> {
    if (refreshing) await refreshing.catch(() => undefined);
    if (shouldRefreshFirst()) await refresh();
    const sent = access?.token;
    try {
      return await send(document, variables, sent);
    } catch (error) {
      if (sent === undefined || !isRejectedAccessToken(error)) throw error;
      // Refresh only if nobody replaced the rejected token yet; otherwise just use the new one.
      if (access === null || access.token === sent) await refresh();
      // The token was refused before the operation ran, so sending it again is safe; once only.
      return send(document, variables, access?.token);
    }
  }

  const subscribe = createSubscriber({
    url: () => options.webSocketUrl ?? webSocketUrlFor(url),
    webSocketImpl: options.webSocketImpl,
    async accessToken() {
      if (refreshing) await refreshing.catch(() => undefined);
      if (storage.get() === null && access === null) return null;
      if (shouldRefreshFirst()) await refresh();
      return access?.token ?? null;
    },
    currentAccessToken: () => access?.token ?? null,
    async renew(rejected) {
      if (access === null || access.token === rejected) await refresh();
    },
    signOut: forget,
  });

  return {
    async register(input) {
      const data = await send(RegisterDocument, { input });
      return accept(data.register);
    },
    async login(input) {
      const data = await send(LoginDocument, { input });
      return accept(data.login);
    },
    request: (document, ...[variables]) => request(document, variables),
    async requestPasswordReset(email) {
      const data = await send(RequestPasswordResetDocument, { email });
      return data.requestPasswordReset;
    },
    async resetPassword(token, newPassword) {
      const data = await send(ResetPasswordDocument, { token, newPassword });
      return accept(data.resetPassword);
    },
    async requestEmailVerification() {
      const data = await request(RequestEmailVerificationDocument, {});
      return data.requestEmailVerification;
    },
    async verifyEmail(token) {
      const data = await send(VerifyEmailDocument, { token });
      return data.verifyEmail;
    },
    async changePassword(currentPassword, newPassword) {
      const data = await request(ChangePasswordDocument, { currentPassword, newPassword });
      return accept(data.changePassword);
    },
    async logout() {
      if (refreshing) await refreshing.catch(() => undefined);
      const refreshToken = storage.get();
      if (inCookie && refreshToken !== null) {
        // The request needs the CSRF cookie that forget() drops, so it goes first; the server
        // clears both cookies in its answer.
        access = null;
        try {
          return (await send(LogoutDocument, {})).logout;
        } catch {
          return false;
        } finally {
          forget();
        }
      }
      forget();
      if (refreshToken === null) return false;
      try {
        const data = await postGraphQL(fetchFn, url, LogoutDocument, { refreshToken });
        return data.logout;
      } catch {
        return false;
      }
    },
    subscribe,
    isSignedIn: () => signedIn,
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
