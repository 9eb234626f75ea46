import { upsertRetryingRace, type Models } from '../db/database';
import type { RecoveryPurpose, RecoveryTokenDocument } from '../db/models/RecoveryToken';
import type { UserDocument } from '../db/models/User';
import {
  hashRecoveryToken,
  isWellFormedRecoveryToken,
  newRecoveryToken,
  passwordFingerprint,
} from './tokens';

/** Issues and redeems mailed one-time tokens (docs/recovery.md, "Tokens"). */
export interface RecoveryTokenStore {
  /**
   * Issues a token for `user` that lives `ttlSeconds`, and voids every earlier one of the same
   * purpose: only the newest mail works. Returns the token, which is stored only as a hash.
   */
  issue(purpose: RecoveryPurpose, user: UserDocument, ttlSeconds: number): Promise<string>;
  /**
   * The stored token for `token` if it is well formed, of this purpose, unexpired and the newest
   * of its user; null otherwise. Does not use it up: see {@link RecoveryTokenStore.consume}.
   */
  find(purpose: RecoveryPurpose, token: string): Promise<RecoveryTokenDocument | null>;
  /** Uses a token up; true for exactly one of any number of concurrent callers. */
  consume(record: RecoveryTokenDocument): Promise<boolean>;
}

/**
 * The `_id` of the document that names the newest token of a user and purpose. Token documents are
 * keyed by a hex hash, so no token can collide with it.
 */
function newestId(purpose: RecoveryPurpose, userId: { toString(): string }): string {
  return `newest:${purpose}:${userId.toString()}`;
}

/**
 * Tokens in the RecoveryToken collection, keyed by their hash, plus one document per user and
 * purpose naming the newest: every read and write addresses one document by `_id`
 * (docs/data-model.md). Expired ones are removed by the scheduled purge.
 */
export function createRecoveryTokenStore(
  models: Pick<Models, 'RecoveryToken'>,
): RecoveryTokenStore {
  const { RecoveryToken } = models;

  return {
    async issue(purpose, user, ttlSeconds) {
      const token = newRecoveryToken();
      const tokenId = hashRecoveryToken(token);
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
      await RecoveryToken.create({
        _id: tokenId,
        purpose,
        userId: user._id,
        email: user.email,
        passwordFingerprint:
          purpose === 'password-reset' ? passwordFingerprint(user.passwordHash) : null,
        expiresAt,
      });
      // Written after the token: from now on only this one redeems, every earlier one is void.
      // Two first requests of one user can both try to create the marker.
      await upsertRetryingRace(() =>
        RecoveryToken.replaceOne(
          { _id: newestId(purpose, user._id) },
          { purpose, userId: user._id, email: user.email, expiresAt, newest: tokenId },
          { upsert: true },
        ),
      );
      return token;
    },

    async find(purpose, token) {
      if (!isWellFormedRecoveryToken(token)) return null;
      const record = await RecoveryToken.findById(hashRecoveryToken(token));
      if (!record || record.purpose !== purpose || record.newest) return null;
      if (record.expiresAt.getTime() <= Date.now()) return null;
      const newest = await RecoveryToken.findById(newestId(purpose, record.userId)).lean();
      return newest?.newest === record._id ? record : null;
    },

    async consume(record) {
      const { deletedCount } = await RecoveryToken.deleteOne({ _id: record._id });
      return deletedCount === 1;
    },
  };
}
