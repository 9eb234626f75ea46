import { AuthenticationError } from '../errors';
import type { UserService } from '../accounts/users';
import type { EventBus } from '../events/eventBus';
import type { NoticeKind } from '../events/securityEvents';
import type { EventLogger } from '../logging/logger';
import { CloseCode, type UnauthorizedReason } from './closeCodes';

/** One authenticated socket, as far as ending it is concerned. */
export interface LiveConnection {
  readonly userId: string;
  readonly sessionId: string;
  /** When its access token expires, in epoch milliseconds. */
  readonly expiresAt: number;
  close(code: number, reason: UnauthorizedReason): void;
}

export interface ConnectionRegistry {
  /** Tracks `connection` until the returned function is called (the socket closed). */
  add(connection: LiveConnection): () => void;
  /** Open authenticated sockets of a user. */
  countOf(userId: string): number;
  /** Open authenticated sockets in all. */
  size(): number;
  /** Re-checks every session of one user now (a notice said something changed). */
  checkUser(userId: string): Promise<void>;
  /** Re-checks every open socket's session now (the periodic sweep). */
  checkAll(): Promise<void>;
  /** Starts listening to the bus and the periodic sweep. */
  start(): void;
  stop(): Promise<void>;
}

export interface ConnectionRegistryDeps {
  readonly users: Pick<UserService, 'current'>;
  readonly bus: EventBus;
  readonly logger: EventLogger;
  /** SUBSCRIPTION_SESSION_CHECK, in ms. */
  readonly sessionCheckIntervalMs: number;
}

// Notices after which a session may have ended; sign-ins end none. A role change that removes a
// role ends every session of the user (docs/authorization.md, "Roles").
const ENDS_SESSIONS: ReadonlySet<NoticeKind> = new Set([
  'SESSION_REVOKED',
  'ALL_SESSIONS_REVOKED',
  'PASSWORD_CHANGED',
  'REFRESH_TOKEN_REUSED',
  'ACCOUNT_DELETED',
  'ROLES_CHANGED',
]);

// setTimeout's ceiling (about 24.8 days); longer tokens get their timer re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Ends authenticated sockets when their auth ends (docs/subscriptions.md, "When auth ends"): at
 * the access token's `exp` (4401 TOKEN_EXPIRED), and when its session is revoked (4401
 * SESSION_REVOKED). Revocation is noticed two ways: a notice on the bus about the user triggers an
 * immediate re-check of that user's sessions, and a periodic sweep re-checks every socket, which
 * bounds the delay when a notice cannot arrive. Both ask the same revocation check as HTTP
 * (`users.current`), so the database decides, never the notice itself.
 */
export function createConnectionRegistry(deps: ConnectionRegistryDeps): ConnectionRegistry {
  const { users, bus, logger } = deps;
  const byUser = new Map<string, Set<LiveConnection>>();
  const timers = new Map<LiveConnection, NodeJS.Timeout>();
  // Per user: a check running, and whether another was asked for meanwhile.
  const checking = new Map<string, { again: boolean; done: Promise<void> }>();
  let sweep: NodeJS.Timeout | undefined;
  let stopListening: (() => void) | undefined;
  let sweeping: Promise<void> | undefined;
  let total = 0;

  function armExpiry(connection: LiveConnection): void {
    const delay = connection.expiresAt - Date.now();
    const timer = setTimeout(
      () => {
        if (Date.now() >= connection.expiresAt)
          connection.close(CloseCode.UNAUTHORIZED, 'TOKEN_EXPIRED');
        else armExpiry(connection);
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    timer.unref();
    timers.set(connection, timer);
  }

  async function checkSessions(userId: string): Promise<void> {
    const connections = [...(byUser.get(userId) ?? [])];
    const sessions = new Set(connections.map((connection) => connection.sessionId));
    for (const sessionId of sessions) {
      let revoked = false;
      try {
        await users.current({ sub: userId, sid: sessionId });
      } catch (error) {
        if (error instanceof AuthenticationError) revoked = true;
        // A database outage is not a revocation: keep the sockets, the next sweep asks again.
        else
          logger.warn(
            { event: 'subscription_session_check_failed', err: error },
            'subscription session check failed',
          );
      }
      if (!revoked) continue;
      for (const connection of byUser.get(userId) ?? []) {
        if (connection.sessionId === sessionId)
          connection.close(CloseCode.UNAUTHORIZED, 'SESSION_REVOKED');
      }
    }
  }

  function checkUser(userId: string): Promise<void> {
    if (!byUser.has(userId)) return Promise.resolve();
    const running = checking.get(userId);
    if (running) {
      // A notice during a check may describe a change the running check read too early.
      running.again = true;
      return running.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await checkSessions(userId);
        } while (state.again);
      } finally {
        checking.delete(userId);
      }
    })();
    checking.set(userId, state);
    return state.done;
  }

  async function checkAll(): Promise<void> {
    await Promise.all([...byUser.keys()].map((userId) => checkUser(userId)));
  }

  function scheduleSweep(): void {
    // ±10 % jitter, so instances started together do not query in lockstep.
    const delay = Math.round(deps.sessionCheckIntervalMs * (0.9 + Math.random() * 0.2));
    sweep = setTimeout(() => {
      sweeping = checkAll().finally(() => {
        sweeping = undefined;
        if (stopListening) scheduleSweep();
      });
    }, delay);
    sweep.unref();
  }

  return {
    add(connection) {
      let set = byUser.get(connection.userId);
      if (!set) {
        set = new Set();
        byUser.set(connection.userId, set);
      }
      set.add(connection);
      total += 1;
      armExpiry(connection);
      let removed = false;
      return () => {
        if (removed) return;
        removed = true;
        clearTimeout(timers.get(connection));
        timers.delete(connection);
        set.delete(connection);
        total -= 1;
        if (set.size === 0 && byUser.get(connection.userId) === set)
          byUser.delete(connection.userId);
      };
    },
    countOf: (userId) => byUser.get(userId)?.size ?? 0,
    size: () => total,
    checkUser,
    checkAll,
    start() {
      if (stopListening) return;
      stopListening = bus.listenAll((notice) => {
        if (ENDS_SESSIONS.has(notice.kind)) void checkUser(notice.userId);
      });
      scheduleSweep();
    },
    async stop() {
      stopListening?.();
      stopListening = undefined;
      clearTimeout(sweep);
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await sweeping;
      await Promise.all([...checking.values()].map((state) => state.done));
    },
  };
}
