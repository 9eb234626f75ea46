import type { Types } from 'mongoose';
import { isDuplicateKeyError, type Models } from '../db/database';
import type { RefreshTokenFields } from '../db/models/RefreshToken';
import { legacySecretId, secretId } from './refreshTokens';

/** What `npm run cli -- migrate` converted (docs/data-model.md, "Data from earlier versions"). */
export interface MigrationReport {
  /** Users given their `useremails` document. */
  readonly emails: number;
  /** Addresses held by two users (possible only if the old unique index was missing); kept as they were. */
  readonly emailConflicts: readonly string[];
  /** Live sessions (token families) converted; their refresh and access tokens keep working. */
  readonly sessions: number;
  /** Old refresh-token documents removed after conversion (live, used, revoked or expired). */
  readonly legacyTokensRemoved: number;
}

type LegacyToken = RefreshTokenFields & { _id: Types.ObjectId };

// Indexes of the previous users collection: email uniqueness now comes from `useremails`, and a
// unique index not prefixed by the shard key would keep the collection from being sharded.
const LEGACY_USER_INDEXES = ['email_1', 'revokedSessions.until_1'];

async function insertIgnoringDuplicate(insert: () => Promise<unknown>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

/**
 * Converts data stored by the version that kept one document per refresh token into the model of
 * docs/data-model.md. Safe to run again: what exists already is left alone. Run it once after
 * stopping the old version and before (or right after) starting the new one.
 *
 * A live session keeps its id, so access tokens already issued for it stay valid; its newest
 * refresh token becomes generation 0 and stays usable as it is, found through a `legacy:<hash>`
 * document; its already-exchanged tokens are kept the same way, so presenting one is still caught
 * as reuse. Revoked and expired sessions are not carried over.
 */
export async function migrateLegacyStorage(
  models: Models,
  now = new Date(),
): Promise<MigrationReport> {
  const { User, UserEmail, Session, RefreshSecret, LegacyRefreshToken } = models;
  let emails = 0;
  const emailConflicts: string[] = [];

  for await (const user of User.collection.find(
    {},
    { projection: { email: 1, createdAt: 1, revokedSessions: 1, sessions: 1 } },
  )) {
    const email = String(user.email);
    const createdAt = user.createdAt instanceof Date ? user.createdAt : now;
    const claimed = await insertIgnoringDuplicate(() =>
      UserEmail.create({ _id: email, userId: user._id, createdAt }),
    );
    if (claimed) emails += 1;
    else {
      const existing = await UserEmail.findById(email).lean();
      if (existing && !existing.userId.equals(user._id)) emailConflicts.push(email);
    }
    if (user.revokedSessions !== undefined || user.sessions === undefined) {
      await User.collection.updateOne(
        { _id: user._id },
        {
          $unset: { revokedSessions: '' },
          ...(user.sessions === undefined ? { $set: { sessions: {} } } : {}),
        },
      );
    }
  }
  for (const name of LEGACY_USER_INDEXES) {
    await User.collection.dropIndex(name).catch(() => undefined);
  }

  // Group the old tokens by family (session); the collection is read once, off the request path.
  const families = new Map<string, LegacyToken[]>();
  let legacyTokensRemoved = 0;
  for await (const token of LegacyRefreshToken.find().lean<LegacyToken[]>().cursor()) {
    const family = families.get(token.familyId) ?? [];
    family.push(token);
    families.set(token.familyId, family);
  }

  let sessions = 0;
  for (const [sessionId, tokens] of families) {
    const unexpired = tokens.filter((token) => token.expiresAt.getTime() > now.getTime());
    const tip = unexpired
      .filter((token) => token.usedAt === null)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    const live =
      tip !== undefined &&
      tip.sessionExpiresAt.getTime() > now.getTime() &&
      tokens.every((token) => token.revokedAt === null);
    if (live && (await User.exists({ _id: tip.userId }))) {
      await insertIgnoringDuplicate(() =>
        Session.create({
          _id: sessionId,
          userId: tip.userId,
          createdAt: tip.sessionCreatedAt,
          lastUsedAt: tip.createdAt,
          expiresAt: tip.expiresAt,
          sessionExpiresAt: tip.sessionExpiresAt,
          generation: 0,
          userAgent: tip.userAgent,
          ip: tip.ip,
        }),
      );
      await insertIgnoringDuplicate(() =>
        RefreshSecret.create({
          _id: secretId(sessionId, 0),
          sessionId,
          generation: 0,
          secretHash: tip.tokenHash,
          expiresAt: tip.expiresAt,
        }),
      );
      // Old tokens carry no session id, so each is found by its hash. The newest one is
      // generation 0; earlier ones count as generation -1, whose successor (0) exists, so they
      // are caught as reuse exactly like a rotated token of the current format.
      for (const token of unexpired) {
        await insertIgnoringDuplicate(() =>
          RefreshSecret.create({
            _id: legacySecretId(token.tokenHash),
            sessionId,
            generation: token === tip ? 0 : -1,
            secretHash: token.tokenHash,
            expiresAt: token.expiresAt,
          }),
        );
      }
      await User.updateOne(
        { _id: tip.userId },
        {
          $set: {
            [`sessions.${sessionId}`]: {
              createdAt: tip.sessionCreatedAt,
              expiresAt: tip.sessionExpiresAt,
            },
          },
        },
      );
      sessions += 1;
    }
    for (const token of tokens) {
      const { deletedCount } = await LegacyRefreshToken.deleteOne({ _id: token._id });
      legacyTokensRemoved += deletedCount;
    }
  }
  return { emails, emailConflicts, sessions, legacyTokensRemoved };
}
