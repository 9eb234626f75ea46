import type { RefreshTokenStore } from './refreshTokens';
import type { AuditLog } from '../logging/audit';
import type { UserService } from '../accounts/users';
import type { RequestScope } from '../logging/requestScope';
import type { Caller } from './types';

/** One signed-in device, as the `Session` type shows it. */
export interface SessionInfo {
  readonly id: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date;
  readonly expiresAt: Date;
  readonly userAgent: string | null;
  readonly ip: string | null;
  /** True for the session of the access token that asked. */
  readonly current: boolean;
}

export interface SessionService {
  /** The caller's live sessions, most recently used first. */
  list(caller: Caller): Promise<SessionInfo[]>;
  /**
   * Revokes one of the caller's sessions; false when the caller has no live session `id`.
   * `request` is named in the audit line.
   */
  revoke(caller: Caller, id: string, request?: RequestScope): Promise<boolean>;
  /** Revokes every session of the caller, the current one included; returns how many were live. */
  revokeAll(caller: Caller, request?: RequestScope): Promise<number>;
}

export interface SessionServiceDeps {
  readonly users: UserService;
  readonly refreshTokens: RefreshTokenStore;
  readonly audit: AuditLog;
}

/** A signed-in user's view of their own sessions. */
export function createSessionService(deps: SessionServiceDeps): SessionService {
  const { users, refreshTokens, audit } = deps;
  return {
    async list(caller) {
      const user = await users.current(caller);
      const sessions = await refreshTokens.liveSessions(user);
      return sessions.map((session) => ({
        id: session.sessionId,
        createdAt: session.createdAt,
        lastUsedAt: session.lastUsedAt,
        expiresAt: session.expiresAt,
        userAgent: session.userAgent,
        ip: session.ip,
        current: session.sessionId === caller.sid,
      }));
    },

    async revoke(caller, id, request) {
      const user = await users.current(caller);
      const revoked = await refreshTokens.revokeSession(user, id, 'revoked');
      if (revoked) audit('session_revoked', { userId: user.id, sessionId: id }, request);
      return revoked;
    },

    async revokeAll(caller, request) {
      const user = await users.current(caller);
      const sessions = await refreshTokens.revokeAllSessions(user, 'logout-all');
      audit('all_sessions_revoked', { userId: user.id, sessions, reason: 'logout-all' }, request);
      return sessions;
    },
  };
}
