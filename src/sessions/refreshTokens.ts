import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Config } from '../config';
import { isDuplicateKeyError, type Models } from '../db/database';
import { AuthenticationError, RefreshTokenReuseError } from '../errors';
import type { SessionFields } from '../db/models/Session';
import type { RefreshSecretFields } from '../db/models/RefreshSecret';
import type { SessionEntry, UserDocument } from '../db/models/User';
import type { AuditLog } from '../logging/audit';
import type { RequestScope } from '../logging/requestScope';
import { createSuccessorSecret } from './successorSecret';
import type { ClientInfo } from './types';

/** A refresh token just handed out; `token` exists only here and in the client's hands. */
export interface IssuedRefreshToken {
  readonly token: string;
  readonly expiresAt: Date;
  readonly sessionId: string;
  readonly userId: Types.ObjectId;
  /** The session's absolute end: no access token issued for it may outlive it. */
  readonly sessionExpiresAt: Date;
}

/** A rotation's result: the successor and the user it belongs to, read in the same round trip. */
export interface RotatedRefreshToken extends IssuedRefreshToken {
  readonly user: UserDocument;
}

/** Why a session ended; reported in security events. */
export type RevocationReason =
  | 'logout'
  | 'logout-all'
  | 'revoked'
  | 'reuse'
  | 'password-changed'
  | 'user-deleted'
  | 'roles-changed';

/** A live session as its session document describes it. */
export interface LiveSession {
  readonly sessionId: string;
  readonly createdAt: Date;
  /** The last sign-in or refresh. */
  readonly lastUsedAt: Date;
  /** When the newest token expires: the session ends then unless refreshed. */
  readonly expiresAt: Date;
  readonly userAgent: string | null;
  readonly ip: string | null;
}

/** The part of a user document the session store reads: its id and its list of sessions. */
export type SessionOwner = Pick<UserDocument, '_id' | 'sessions'>;

export interface RefreshTokenStore {
  /** Starts a new session for a user who just proved their password. */
  startSession(user: SessionOwner, client: ClientInfo): Promise<IssuedRefreshToken>;
  /**
   * Exchanges a refresh token for its successor. Throws INVALID_REFRESH_TOKEN for unknown,
   * expired or revoked tokens. A token that was already exchanged yields the same successor again
   * within REFRESH_REUSE_GRACE of its exchange (while that successor is the newest token), and
   * revokes its whole session otherwise.
   */
  rotate(token: string, client: ClientInfo): Promise<RotatedRefreshToken>;
  /** Revokes the session a token belongs to; silently does nothing for unknown tokens. */
  revokeByToken(token: string, request?: RequestScope): Promise<void>;
  /** Revokes one session of a user; true when it was live. Other users' sessions are untouched. */
  revokeSession(user: SessionOwner, sessionId: string, reason: RevocationReason): Promise<boolean>;
  /** Revokes every session of a user; returns how many of them were live. */
  revokeAllSessions(user: SessionOwner, reason: RevocationReason): Promise<number>;
  /** The user's live sessions, most recently used first. */
  liveSessions(user: SessionOwner): Promise<LiveSession[]>;
}

export interface RefreshTokenStoreDeps {
  readonly config: Config;
  readonly models: Models;
  readonly audit: AuditLog;
}

const SECRET_BYTES = 32; // 256 bits (docs/sessions.md, "Refresh token")
/**
 * Refresh tokens kept besides the newest one, per session: presenting one of them is caught as
 * reuse. Older ones are deleted, which is what keeps a session's storage constant however often
 * it refreshes (docs/data-model.md, "refreshsecrets").
 */
export const PREVIOUS_SECRETS_KEPT = 4;
/** Live sessions per user; signing in once more ends the oldest (docs/sessions.md). */
export const MAX_SESSIONS_PER_USER = 50;
// Updates that remove sessions from a user's list, each followed by a read to confirm it.
const UNLIST_ATTEMPTS = 5;

// `<sessionId>.<generation>.<secret>`; session ids are UUIDs, also those of migrated sessions.
const TOKEN_PATTERN =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(0|[1-9][0-9]{0,8})\.([A-Za-z0-9_-]{43})$/;
// A token issued before the current storage: 256 bits, base64url, nothing else.
const LEGACY_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const MAX_SESSION_ID_LENGTH = 64;

/** SHA-256 of a refresh token's secret, hex: the only form in which secrets are stored. */
export function hashRefreshToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The `_id` of generation `generation` of a session's refresh tokens. */
export function secretId(sessionId: string, generation: number): string {
  return `${sessionId}:${generation}`;
}

/** The `_id` under which a token migrated from the previous storage is found, by its hash. */
export function legacySecretId(hash: string): string {
  return `legacy:${hash}`;
}

/** A presented refresh token, taken apart: where its secret is stored and what it must hash to. */
interface ParsedToken {
  readonly secretId: string;
  /** Known from the token itself; for legacy tokens only once their stored secret is read. */
  readonly sessionId: string | null;
  /** The secret as presented: what the successor's secret is derived from. */
  readonly secret: string;
  readonly hash: string;
}

function parseToken(token: string): ParsedToken | null {
  const match = TOKEN_PATTERN.exec(token);
  if (match) {
    const [, sessionId = '', generation = '', secret = ''] = match;
    return {
      secretId: secretId(sessionId, Number(generation)),
      sessionId,
      secret,
      hash: hashRefreshToken(secret),
    };
  }
  if (LEGACY_TOKEN_PATTERN.test(token)) {
    const hash = hashRefreshToken(token);
    return { secretId: legacySecretId(hash), sessionId: null, secret: token, hash };
  }
  return null;
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

/** True when `sessionId` could name a session at all (keeps odd input away from the database). */
export function isPlausibleSessionId(sessionId: string): boolean {
  return sessionId.length > 0 && sessionId.length <= MAX_SESSION_ID_LENGTH;
}

/**
 * Rotating refresh tokens (docs/sessions.md) on the storage of docs/data-model.md: a session
 * document per sign-in, a bounded set of secret documents per session, and the user document's
 * list of session ids. Every operation addresses documents by `_id`; inserting a secret under a
 * fresh `_id` is the only step that decides a race, because an insert is atomic on every MongoDB
 * topology and on FerretDB, where a conditional update is not.
 */
export function createRefreshTokenStore(deps: RefreshTokenStoreDeps): RefreshTokenStore {
  const { config, models, audit } = deps;
  const { Session, RefreshSecret, User } = models;
  const invalid = (): AuthenticationError => new AuthenticationError('INVALID_REFRESH_TOKEN');
  const successorSecret = createSuccessorSecret(config.jwt);
  const graceMs = config.refreshReuseGrace * 1000;

  function newSecret(): { secret: string; hash: string } {
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    return { secret, hash: hashRefreshToken(secret) };
  }

  function deleteSecrets(sessionId: string, generation: number) {
    // The newest generations only: older ones were deleted by the rotations that passed them, and
    // strays (a rotation cut short, migrated tokens) go with the scheduled purge at their expiry.
    const from = Math.max(0, generation - PREVIOUS_SECRETS_KEPT);
    return Array.from({ length: generation + 2 - from }, (_unused, i) =>
      RefreshSecret.deleteOne({ _id: secretId(sessionId, from + i) }),
    );
  }

  /** `$unset` of the user's list entries of these sessions, in one update of the user document. */
  function unsetEntries(ids: readonly string[]) {
    return { $unset: Object.fromEntries(ids.map((id) => [`sessions.${id}`, ''])) };
  }

  /**
   * Removes sessions from the user's list and confirms it: on FerretDB an update racing with
   * another update of the same document can be lost (docs/data-model.md), and a guarded read
   * accepts an access token exactly while the list names its session.
   */
  async function unlist(userId: Types.ObjectId, ids: readonly string[]): Promise<void> {
    let left = ids;
    for (let attempt = 0; attempt < UNLIST_ATTEMPTS && left.length > 0; attempt += 1) {
      await User.updateOne({ _id: userId }, unsetEntries(left));
      const user = await User.findById(userId, { sessions: 1 }).lean<{
        sessions?: Record<string, unknown>;
      }>();
      left = left.filter((id) => user?.sessions?.[id] !== undefined);
    }
    if (left.length > 0)
      throw new Error('the user document kept changing; revocation not confirmed');
  }

  /**
   * Ends sessions of one user: they leave the user's list (which stops their access tokens) and
   * then their session documents are deleted (which stops their refresh tokens; a deletion cannot
   * be undone by a concurrent update). Returns how many of the sessions were live.
   *
   * In that order, so that a revocation cut short (a failed write, a crash) can be retried: until
   * the list is confirmed, the session and its secrets still exist, and the same refresh token or
   * session id finds them again. The other order would leave a listed session that nothing finds,
   * whose access tokens would work until they expire (docs/sessions.md, "Sessions").
   */
  async function revoke(
    userId: Types.ObjectId,
    sessions: ReadonlyArray<Pick<SessionFields, '_id' | 'generation' | 'expiresAt'>>,
    alsoUnlist: readonly string[] = [],
  ): Promise<number> {
    const ids = [...sessions.map((session) => session._id), ...alsoUnlist];
    if (ids.length === 0) return 0;
    const now = Date.now();
    await unlist(userId, ids);
    const outcomes = await Promise.all(
      sessions.map(async (session) => {
        const [deleted] = await Promise.all([
          Session.deleteOne({ _id: session._id }),
          ...deleteSecrets(session._id, session.generation),
        ]);
        return deleted.deletedCount === 1 && session.expiresAt.getTime() > now;
      }),
    );
    return outcomes.filter(Boolean).length;
  }

  /** The session and stored secret a token names, when its secret matches; null otherwise. */
  async function lookUp(token: string): Promise<{
    session: SessionFields | null;
    secret: RefreshSecretFields;
    presented: ParsedToken;
  } | null> {
    const parsed = parseToken(token);
    if (!parsed) return null;
    let session: SessionFields | null;
    let secret: RefreshSecretFields | null;
    if (parsed.sessionId !== null) {
      // Both by `_id`, in one round trip.
      [session, secret] = await Promise.all([
        Session.findById(parsed.sessionId).lean<SessionFields>(),
        RefreshSecret.findById(parsed.secretId).lean<RefreshSecretFields>(),
      ]);
    } else {
      secret = await RefreshSecret.findById(parsed.secretId).lean<RefreshSecretFields>();
      session = secret ? await Session.findById(secret.sessionId).lean<SessionFields>() : null;
    }
    if (!secret || !sameHash(secret.secretHash, parsed.hash)) return null;
    if (parsed.sessionId !== null && secret.sessionId !== parsed.sessionId) return null;
    return { session, secret, presented: parsed };
  }

  /**
   * The answer to a token presented again after its exchange, when that happened within the grace
   * window and its successor is still the newest token: the same successor, which the token
   * derives (docs/sessions.md, "Grace window"). Null when the presentation is reuse.
   */
  async function replayWithinGrace(
    session: SessionFields,
    generation: number,
    secret: string,
    now: number,
  ): Promise<RotatedRefreshToken | null> {
    if (graceMs === 0) return null;
    const [successor, newer, user] = await Promise.all([
      RefreshSecret.findById(secretId(session._id, generation)).lean<RefreshSecretFields>(),
      RefreshSecret.findById(secretId(session._id, generation + 1), { _id: 1 }).lean(),
      User.findById(session.userId),
    ]);
    if (!successor?.createdAt || newer) return null;
    if (now - successor.createdAt.getTime() > graceMs) return null;
    // A successor this token does not derive was not made from it (another key, an older
    // version of the server): no grace for what cannot be confirmed.
    if (!sameHash(successor.secretHash, hashRefreshToken(secret))) return null;
    // Revoked meanwhile: the token is dead, but that is no reason to suspect anyone.
    if (successor.expiresAt.getTime() <= now || !user?.sessions?.has(session._id)) throw invalid();
    return {
      token: `${session._id}.${generation}.${secret}`,
      expiresAt: successor.expiresAt,
      sessionId: session._id,
      sessionExpiresAt: session.sessionExpiresAt,
      userId: session.userId,
      user,
    };
  }

  async function reuseDetected(session: SessionFields, client: ClientInfo): Promise<never> {
    // Either the client or a thief holds a stale copy, and we cannot tell which, so the whole
    // session goes (RFC 9700 §4.14.2).
    await revoke(session.userId, [session]);
    audit(
      'refresh_token_reuse_detected',
      {
        userId: session.userId.toString(),
        sessionId: session._id,
        ip: client.ip,
        userAgent: client.userAgent,
      },
      client.request,
    );
    throw new RefreshTokenReuseError();
  }

  function ownedSessionIds(user: SessionOwner): string[] {
    return [...(user.sessions?.keys() ?? [])];
  }

  return {
    async startSession(user, client) {
      const sessionId = randomUUID();
      const now = new Date();
      const sessionExpiresAt = new Date(now.getTime() + config.sessionMaxAge * 1000);
      const expiresAt = earliest(
        new Date(now.getTime() + config.refreshTokenTtl * 1000),
        sessionExpiresAt,
      );
      const { secret, hash } = newSecret();

      // Entries of sessions that have ended on their own leave the list here; if it is still
      // full, the oldest sessions end so that the list, and the user document, stay bounded.
      const entries = [...(user.sessions?.entries() ?? [])];
      const ended = entries.filter(([, entry]) => entry.expiresAt.getTime() <= now.getTime());
      const live = entries
        .filter(([, entry]) => entry.expiresAt.getTime() > now.getTime())
        .sort(([, a], [, b]) => a.createdAt.getTime() - b.createdAt.getTime());
      const evicted = live.slice(0, Math.max(0, live.length - MAX_SESSIONS_PER_USER + 1));

      const dropped = [...ended, ...evicted].map(([id]) => id);
      const entry: SessionEntry = { createdAt: now, expiresAt: sessionExpiresAt };
      await Promise.all([
        Session.create({
          _id: sessionId,
          userId: user._id,
          createdAt: now,
          lastUsedAt: now,
          expiresAt,
          sessionExpiresAt,
          generation: 0,
          userAgent: client.userAgent,
          ip: client.ip,
        }),
        RefreshSecret.create({
          _id: secretId(sessionId, 0),
          sessionId,
          generation: 0,
          secretHash: hash,
          expiresAt,
          createdAt: now,
        }),
        User.updateOne(
          { _id: user._id },
          {
            $set: { [`sessions.${sessionId}`]: entry },
            ...(dropped.length > 0 ? unsetEntries(dropped) : {}),
          },
        ),
        ...evicted.map(([id]) => Session.deleteOne({ _id: id })),
      ]);
      return {
        token: `${sessionId}.0.${secret}`,
        expiresAt,
        sessionId,
        userId: user._id,
        sessionExpiresAt,
      };
    },

    async rotate(token, client) {
      const found = await lookUp(token);
      const session = found?.session;
      if (!found || !session) throw invalid();
      const now = Date.now();
      if (found.secret.expiresAt.getTime() <= now || session.sessionExpiresAt.getTime() <= now)
        throw invalid();

      const generation = found.secret.generation + 1;
      const expiresAt = earliest(
        new Date(now + config.refreshTokenTtl * 1000),
        session.sessionExpiresAt,
      );
      // Derived, not random: every exchange of this token, in any process, makes the same one.
      const secret = successorSecret(session._id, generation, found.presented.secret);
      try {
        await RefreshSecret.create({
          _id: secretId(session._id, generation),
          sessionId: session._id,
          generation,
          secretHash: hashRefreshToken(secret),
          expiresAt,
          createdAt: new Date(now),
        });
      } catch (error) {
        // The successor exists already: this token was exchanged before (or is being exchanged
        // right now by a concurrent request). Within the grace window that is a retry or a second
        // tab and gets the same successor; after it, reuse (RFC 9700 §4.14.2).
        if (!isDuplicateKeyError(error)) throw error;
        const replayed = await replayWithinGrace(session, generation, secret, now);
        return replayed ?? reuseDetected(session, client);
      }

      const [updated, user] = await Promise.all([
        Session.updateOne(
          { _id: session._id },
          {
            $set: {
              lastUsedAt: new Date(now),
              expiresAt,
              generation,
              ip: client.ip,
              userAgent: client.userAgent ?? session.userAgent,
            },
          },
        ),
        User.findById(session.userId),
        generation > PREVIOUS_SECRETS_KEPT
          ? RefreshSecret.deleteOne({
              _id: secretId(session._id, generation - PREVIOUS_SECRETS_KEPT - 1),
            })
          : undefined,
      ]);
      // A revocation that ran while we inserted deleted the session document: the successor is
      // worthless, and the caller is told so now rather than at its next refresh.
      if (updated.matchedCount === 0) throw invalid();
      if (!user || !user.sessions?.has(session._id)) {
        await revoke(session.userId, [{ ...session, generation }]);
        throw invalid();
      }
      return {
        token: `${session._id}.${generation}.${secret}`,
        expiresAt,
        sessionId: session._id,
        userId: session.userId,
        sessionExpiresAt: session.sessionExpiresAt,
        user,
      };
    },

    async revokeByToken(token, request) {
      const found = await lookUp(token);
      if (!found?.session) return;
      const { session } = found;
      await revoke(session.userId, [session]);
      audit(
        'session_revoked',
        { userId: session.userId.toString(), sessionId: session._id, reason: 'logout' },
        request,
      );
    },

    async revokeSession(user, sessionId) {
      if (!isPlausibleSessionId(sessionId)) return false;
      const session = await Session.findById(sessionId).lean<SessionFields>();
      // Another user's session id matches nothing of this user and changes nothing. A listed
      // session without its document (a revocation cut short) still leaves the list, confirmed.
      if (!session || !session.userId.equals(user._id)) {
        if (user.sessions?.has(sessionId)) await unlist(user._id, [sessionId]);
        return false;
      }
      return (await revoke(user._id, [session])) === 1;
    },

    async revokeAllSessions(user) {
      const ids = ownedSessionIds(user);
      const found = await Promise.all(ids.map((id) => Session.findById(id).lean<SessionFields>()));
      const owned = found.filter(
        (session): session is SessionFields => session !== null && session.userId.equals(user._id),
      );
      const ownedIds = new Set(owned.map((session) => session._id));
      return revoke(
        user._id,
        owned,
        ids.filter((id) => !ownedIds.has(id)),
      );
    },

    async liveSessions(user) {
      const now = Date.now();
      const sessions = await Promise.all(
        ownedSessionIds(user).map((id) => Session.findById(id).lean<SessionFields>()),
      );
      return sessions
        .filter(
          (session): session is SessionFields =>
            session !== null &&
            session.userId.equals(user._id) &&
            session.expiresAt.getTime() > now,
        )
        .sort((a, b) => b.lastUsedAt.getTime() - a.lastUsedAt.getTime())
        .map((session) => ({
          sessionId: session._id,
          createdAt: session.createdAt,
          lastUsedAt: session.lastUsedAt,
          expiresAt: session.expiresAt,
          userAgent: session.userAgent,
          ip: session.ip,
        }));
    },
  };
}
