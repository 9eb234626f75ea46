import type { Models } from '../db/database';
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

const PURGE_INTERVAL_MS = 60_000;

/** Tokens in the RecoveryToken collection, keyed by their hash. */
export function createRecoveryTokenStore(
  models: Pick<Models, 'RecoveryToken'>,
): RecoveryTokenStore {
  const { RecoveryToken } = models;
  let lastPurge = 0;

  function purgeExpired(now: number): void {
    if (now - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = now;
    // Housekeeping only: expiry is checked on every redemption, so a failure can wait.
    void RecoveryToken.deleteMany({ expiresAt: { $lte: new Date(now) } }).catch(() => undefined);
  }

  return {
    async issue(purpose, user, ttlSeconds) {
      const now = Date.now();
      purgeExpired(now);
      const token = newRecoveryToken();
      await RecoveryToken.deleteMany({ userId: user._id, purpose });
      await RecoveryToken.create({
        _id: hashRecoveryToken(token),
        purpose,
        userId: user._id,
        email: user.email,
        passwordFingerprint:
          purpose === 'password-reset' ? passwordFingerprint(user.passwordHash) : null,
        expiresAt: new Date(now + ttlSeconds * 1000),
      });
      return token;
    },

    async find(purpose, token) {
      if (!isWellFormedRecoveryToken(token)) return null;
      const record = await RecoveryToken.findById(hashRecoveryToken(token));
      if (!record || record.purpose !== purpose) return null;
      if (record.expiresAt.getTime() <= Date.now()) return null;
      // Two requests racing on two instances may both survive the clean-up in `issue`; the
      // older one still loses here.
      const newer = await RecoveryToken.exists({
        userId: record.userId,
        purpose,
        createdAt: { $gt: record.createdAt },
      });
      return newer ? null : record;
    },

    async consume(record) {
      const { deletedCount } = await RecoveryToken.deleteOne({ _id: record._id });
      return deletedCount === 1;
    },
  };
}
