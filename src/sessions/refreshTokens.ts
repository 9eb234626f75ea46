import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Config } from '../config';
import { isDuplicateKeyError, type Models } from '../db/database';
import { AuthenticationError } from '../errors';
import type { RefreshTokenDocument } from '../db/models/RefreshToken';
import type { RevokedSessionList } from './revokedSessions';
import type { AuditLog } from '../logging/audit';
import type { ClientInfo } from './types';

/** A refresh token just handed out; `token` exists only here and in the client's hands. */
export interface IssuedRefreshToken {
  readonly token: string;
  readonly expiresAt: Date;
  readonly sessionId: string;
  readonly userId: Types.ObjectId;
}

/** Why a session ended; stored on its tokens and reported in security events. */
export type RevocationReason =
  'logout' | 'logout-all' | 'revoked' | 'reuse' | 'password-changed' | 'user-deleted';

/** A live session as its newest refresh token describes it. */
export interface LiveSession {
  readonly sessionId: string;
  readonly createdAt: Date;
  /** When the newest token was issued: the last sign-in or refresh. */
  readonly lastUsedAt: Date;
  /** When the newest token expires: the session ends then unless refreshed. */
  readonly expiresAt: Date;
  readonly userAgent: string | null;
  readonly ip: string | null;
}

export interface RefreshTokenStore {
  /** Starts a new session (token family) for a user who just proved their password. */
  startSession(userId: Types.ObjectId, client: ClientInfo): Promise<IssuedRefreshToken>;
  /**
   * Exchanges a refresh token for its successor. Throws INVALID_REFRESH_TOKEN for unknown,
   * expired or revoked tokens; a token that was already exchanged revokes its whole session.
   */
  rotate(token: string, client: ClientInfo): Promise<IssuedRefreshToken>;
  /** Revokes the session a token belongs to; silently does nothing for unknown tokens. */
  revokeByToken(token: string): Promise<void>;
  /** Revokes one session of a user; true when it was live. Other users' sessions are untouched. */
  revokeSession(
    userId: Types.ObjectId,
    sessionId: string,
    reason: RevocationReason,
  ): Promise<boolean>;
  /** Revokes every session of a user; returns how many of them were live. */
  revokeAllSessions(userId: Types.ObjectId, reason: RevocationReason): Promise<number>;
  /** The user's live sessions, most recently used first. */
  liveSessions(userId: Types.ObjectId): Promise<LiveSession[]>;
  /** Deletes every token of a user (their account is gone). */
  deleteAll(userId: Types.ObjectId): Promise<void>;
}

export interface RefreshTokenStoreDeps {
  readonly config: Config;
  readonly models: Models;
  readonly revokedSessions: RevokedSessionList;
  readonly audit: AuditLog;
}

const TOKEN_BYTES = 32; // 256 bits (docs/sessions.md, "Refresh token")
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** SHA-256 of a refresh token, hex: the only form in which tokens are stored. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

/** Opaque, rotating refresh tokens stored as SHA-256 hashes (docs/sessions.md). */
export function createRefreshTokenStore(deps: RefreshTokenStoreDeps): RefreshTokenStore {
  const { config, models, revokedSessions, audit } = deps;
  const { RefreshToken } = models;
  const invalid = (): AuthenticationError => new AuthenticationError('INVALID_REFRESH_TOKEN');

  async function insertToken(fields: {
    rotatedFrom: string;
    familyId: string;
    userId: Types.ObjectId;
    sessionCreatedAt: Date;
    sessionExpiresAt: Date;
    client: ClientInfo;
  }): Promise<IssuedRefreshToken> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const expiresAt = earliest(
      new Date(Date.now() + config.refreshTokenTtl * 1000),
      fields.sessionExpiresAt,
    );
    await RefreshToken.create({
      tokenHash: hashRefreshToken(token),
      rotatedFrom: fields.rotatedFrom,
      familyId: fields.familyId,
      userId: fields.userId,
      expiresAt,
      sessionExpiresAt: fields.sessionExpiresAt,
      sessionCreatedAt: fields.sessionCreatedAt,
      userAgent: fields.client.userAgent,
      ip: fields.client.ip,
    });
    return { token, expiresAt, sessionId: fields.familyId, userId: fields.userId };
  }

  /** Revokes the given families of one user: their refresh tokens, then their access tokens. */
  async function revokeFamilies(
    userId: Types.ObjectId,
    familyIds: readonly string[],
    reason: RevocationReason,
  ): Promise<void> {
    if (familyIds.length === 0) return;
    const result = await RefreshToken.updateMany(
      { userId, familyId: { $in: familyIds }, revokedAt: null },
      { $set: { revokedAt: new Date(), revokedReason: reason } },
    );
    // Nothing matched: another user's session, or one an earlier revocation already listed.
    if (result.modifiedCount > 0) await revokedSessions.add(userId, familyIds);
  }

  async function liveFamilyIds(userId: Types.ObjectId, familyId?: string): Promise<string[]> {
    const ids: unknown[] = await RefreshToken.distinct('familyId', {
      userId,
      ...(familyId === undefined ? {} : { familyId }),
      usedAt: null,
      revokedAt: null,
      expiresAt: { $gt: new Date() },
    });
    return ids.filter((id): id is string => typeof id === 'string');
  }

  async function findByToken(token: string): Promise<RefreshTokenDocument | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    return RefreshToken.findOne({ tokenHash: hashRefreshToken(token) });
  }

  async function reuseDetected(current: RefreshTokenDocument, client: ClientInfo): Promise<never> {
    // Either the client or a thief holds a stale copy, and we cannot tell which, so the whole
    // family goes (RFC 9700 §4.14.2).
    await revokeFamilies(current.userId, [current.familyId], 'reuse');
    audit('refresh_token_reuse_detected', {
      userId: current.userId.toString(),
      sessionId: current.familyId,
      ip: client.ip,
      userAgent: client.userAgent,
    });
    throw invalid();
  }

  return {
    async startSession(userId, client) {
      const familyId = randomUUID();
      const now = new Date();
      return insertToken({
        rotatedFrom: `session:${familyId}`,
        familyId,
        userId,
        sessionCreatedAt: now,
        sessionExpiresAt: new Date(now.getTime() + config.sessionMaxAge * 1000),
        client,
      });
    },

    async rotate(token, client) {
      const current = await findByToken(token);
      if (!current || current.revokedAt) throw invalid();
      const now = Date.now();
      if (current.usedAt) return reuseDetected(current, client);
      if (current.expiresAt.getTime() <= now || current.sessionExpiresAt.getTime() <= now)
        throw invalid();

      let next: IssuedRefreshToken;
      try {
        next = await insertToken({
          rotatedFrom: current.tokenHash,
          familyId: current.familyId,
          userId: current.userId,
          sessionCreatedAt: current.sessionCreatedAt,
          sessionExpiresAt: current.sessionExpiresAt,
          client: { ip: client.ip, userAgent: client.userAgent ?? current.userAgent },
        });
      } catch (error) {
        // The unique `rotatedFrom` index let a concurrent exchange of the same token win: the
        // same token was presented twice, which is reuse.
        if (!isDuplicateKeyError(error)) throw error;
        return reuseDetected(current, client);
      }
      await RefreshToken.updateOne(
        { _id: current._id, usedAt: null },
        { $set: { usedAt: new Date(now) } },
      );
      // A revocation that ran while we inserted may have missed the new token: re-check the family.
      if (await RefreshToken.exists({ familyId: current.familyId, revokedAt: { $ne: null } })) {
        await revokeFamilies(current.userId, [current.familyId], 'revoked');
        throw invalid();
      }
      return next;
    },

    async revokeByToken(token) {
      const found = await findByToken(token);
      if (!found) return;
      await revokeFamilies(found.userId, [found.familyId], 'logout');
      audit('session_revoked', {
        userId: found.userId.toString(),
        sessionId: found.familyId,
        reason: 'logout',
      });
    },

    async revokeSession(userId, sessionId, reason) {
      const live = (await liveFamilyIds(userId, sessionId)).length > 0;
      // Filtered by user as well: another user's session id matches nothing and changes nothing.
      await revokeFamilies(userId, [sessionId], reason);
      return live;
    },

    async revokeAllSessions(userId, reason) {
      const live = await liveFamilyIds(userId);
      const all: unknown[] = await RefreshToken.distinct('familyId', { userId, revokedAt: null });
      await revokeFamilies(
        userId,
        all.filter((id): id is string => typeof id === 'string'),
        reason,
      );
      return live.length;
    },

    async liveSessions(userId) {
      const tips = await RefreshToken.find({
        userId,
        usedAt: null,
        revokedAt: null,
        expiresAt: { $gt: new Date() },
      })
        .sort({ createdAt: -1 })
        .lean();
      // Mid-rotation a family briefly has two unused tokens; the newer one describes it.
      const sessions = new Map<string, LiveSession>();
      for (const tip of tips) {
        if (sessions.has(tip.familyId)) continue;
        sessions.set(tip.familyId, {
          sessionId: tip.familyId,
          createdAt: tip.sessionCreatedAt,
          lastUsedAt: tip.createdAt,
          expiresAt: tip.expiresAt,
          userAgent: tip.userAgent,
          ip: tip.ip,
        });
      }
      return [...sessions.values()];
    },

    async deleteAll(userId) {
      await RefreshToken.deleteMany({ userId });
    },
  };
}
