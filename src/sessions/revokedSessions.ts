import type { Types } from 'mongoose';
import type { JwtConfig } from '../config';
import type { Models } from '../db/database';
import type { RevokedSession, UserFields } from '../db/models/User';

/**
 * Revoked sessions whose access tokens may still be unexpired. Access tokens are self-contained,
 * so without this list a revoked session would keep working for up to ACCESS_TOKEN_TTL wherever
 * the caller is loaded.
 */
export interface RevokedSessionList {
  /** Marks sessions of a user as revoked for as long as any of their access tokens can live. */
  add(userId: Types.ObjectId, sessionIds: readonly string[]): Promise<void>;
  /** Forgets entries whose access tokens have all expired; returns how many users were tidied. */
  prune(now: Date): Promise<number>;
}

// An access token signed in the instant a concurrent revocation ran can outlive the revocation
// by that instant, so entries are kept a little longer than the token lifetime alone.
const SAFETY_MARGIN_MS = 60_000;
const PRUNE_BATCH = 500;

/** True when access tokens of this session must no longer be honoured for this user. */
export function isSessionRevoked(
  user: Pick<UserFields, 'revokedSessions'>,
  sessionId: string,
): boolean {
  return (user.revokedSessions ?? []).some((entry) => entry.sessionId === sessionId);
}

function stale(entries: readonly RevokedSession[], now: Date): RevokedSession[] {
  return entries.filter((entry) => entry.until.getTime() <= now.getTime());
}

/** The revocation list, kept on the user documents themselves. */
export function createRevokedSessionList(jwt: JwtConfig, models: Models): RevokedSessionList {
  const { User } = models;
  const keepMs = (jwt.accessTokenTtl + jwt.clockToleranceSeconds) * 1000 + SAFETY_MARGIN_MS;

  // FerretDB cannot `$pull` by condition, so stale entries are read and removed by exact value.
  async function pullStale(userId: Types.ObjectId, entries: readonly RevokedSession[], now: Date) {
    const old = stale(entries, now);
    if (old.length > 0)
      await User.updateOne({ _id: userId }, { $pullAll: { revokedSessions: old } });
    return old.length > 0;
  }

  return {
    async add(userId, sessionIds) {
      if (sessionIds.length === 0) return;
      const now = new Date();
      const user = await User.findById(userId, { revokedSessions: 1 }).lean();
      if (!user) return;
      await pullStale(userId, user.revokedSessions ?? [], now);
      const until = new Date(now.getTime() + keepMs);
      await User.updateOne(
        { _id: userId },
        {
          $push: {
            revokedSessions: {
              $each: [...new Set(sessionIds)].map((sessionId) => ({ sessionId, until })),
            },
          },
        },
      );
    },

    async prune(now) {
      const users = await User.find(
        { 'revokedSessions.until': { $lte: now } },
        { revokedSessions: 1 },
      )
        .limit(PRUNE_BATCH)
        .lean();
      let tidied = 0;
      for (const user of users) {
        if (await pullStale(user._id, user.revokedSessions ?? [], now)) tidied += 1;
      }
      return tidied;
    },
  };
}
