import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import { silentAuditLog, type AuditLog } from '../audit';
import type { Config } from '../config';
import type { Models } from '../db';
import { AuthenticationError } from '../errors';
import type { RefreshTokenDocument } from '../models/RefreshToken';

/** Where a request came from, remembered on its session. */
export interface ClientInfo {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** A refresh token just handed out; `token` exists only here and in the client's hands. */
export interface IssuedRefreshToken {
  readonly token: string;
  readonly expiresAt: Date;
  readonly sessionId: string;
  readonly userId: Types.ObjectId;
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
  /** Revokes every token of a session. */
  revokeSession(sessionId: string, reason: string): Promise<void>;
}

const TOKEN_BYTES = 32; // 256 bits (DESIGN §3)
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const DUPLICATE_KEY = 11000;

/** SHA-256 of a refresh token, hex: the only form in which tokens are stored. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function isDuplicateKeyError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === DUPLICATE_KEY
  );
}

function reuseFields(token: RefreshTokenDocument, client: ClientInfo) {
  return { userId: token.userId.toString(), sessionId: token.familyId, ip: client.ip };
}

function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

/** Opaque, rotating refresh tokens stored as SHA-256 hashes (DESIGN §3). */
export function createRefreshTokenStore(
  config: Config,
  models: Models,
  audit: AuditLog = silentAuditLog,
): RefreshTokenStore {
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

  async function revokeSession(sessionId: string, reason: string): Promise<void> {
    await RefreshToken.updateMany(
      { familyId: sessionId, revokedAt: null },
      { $set: { revokedAt: new Date(), revokedReason: reason } },
    );
  }

  async function findByToken(token: string): Promise<RefreshTokenDocument | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    return RefreshToken.findOne({ tokenHash: hashRefreshToken(token) });
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
      if (current.usedAt) {
        // Reuse of an exchanged token: either the client or a thief holds a stale copy, and we
        // cannot tell which, so the whole family goes (RFC 9700 §4.14.2).
        audit('refresh_token_reuse_detected', reuseFields(current, client));
        await revokeSession(current.familyId, 'reuse');
        throw invalid();
      }
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
        // The unique `rotatedFrom` index let a concurrent exchange of the same token win.
        if (!isDuplicateKeyError(error)) throw error;
        audit('refresh_token_reuse_detected', {
          ...reuseFields(current, client),
          concurrent: true,
        });
        await revokeSession(current.familyId, 'reuse');
        throw invalid();
      }
      await RefreshToken.updateOne(
        { _id: current._id, usedAt: null },
        { $set: { usedAt: new Date(now) } },
      );
      // A revocation that ran while we inserted may have missed the new token: re-check the family.
      if (await RefreshToken.exists({ familyId: current.familyId, revokedAt: { $ne: null } })) {
        await revokeSession(current.familyId, 'revoked');
        throw invalid();
      }
      return next;
    },

    async revokeByToken(token) {
      const found = await findByToken(token);
      if (!found) return;
      await revokeSession(found.familyId, 'logout');
      audit('session_revoked', {
        userId: found.userId.toString(),
        sessionId: found.familyId,
        reason: 'logout',
      });
    },

    revokeSession,
  };
}
