import type { Types } from 'mongoose';
import { isDuplicateKeyError, type Models } from '../db/database';
import type { UserDocument } from '../db/models/User';

/**
 * Email → user through `useremails`, keyed by the normalised address (docs/data-model.md): each
 * operation is one read, insert or delete by `_id`.
 */
export interface EmailDirectory {
  /** True when an account holds the address (or is being registered with it). */
  exists(email: string): Promise<boolean>;
  /**
   * Claims an address for a new user id; false when it is taken. A claim left behind by a
   * registration that died before its user was stored is taken over after a grace period.
   */
  claim(email: string, userId: Types.ObjectId): Promise<boolean>;
  /** Gives back an address this process has just claimed, or whose account is gone. */
  release(email: string): Promise<void>;
  /** The user holding an address, or null. */
  findUser(email: string): Promise<UserDocument | null>;
}

// Longer than a registration takes from its claim to storing the user (one insert).
const ABANDONED_CLAIM_MS = 60_000;

/** The directory on a connection's models. */
export function createEmailDirectory(models: Pick<Models, 'User' | 'UserEmail'>): EmailDirectory {
  const { User, UserEmail } = models;

  async function insert(email: string, userId: Types.ObjectId): Promise<boolean> {
    try {
      await UserEmail.create({ _id: email, userId, createdAt: new Date() });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  return {
    async exists(email) {
      return (await UserEmail.findById(email, { _id: 1 }).lean()) !== null;
    },

    async claim(email, userId) {
      if (await insert(email, userId)) return true;
      const existing = await UserEmail.findById(email).lean();
      if (!existing) return insert(email, userId);
      if (Date.now() - existing.createdAt.getTime() < ABANDONED_CLAIM_MS) return false;
      if (await User.exists({ _id: existing.userId })) return false;
      // Abandoned: deleted by id and value, so that of two concurrent takeovers the second cannot
      // delete the first one's fresh claim. A rare path, so the extra filter field is acceptable.
      await UserEmail.deleteOne({ _id: email, userId: existing.userId });
      return insert(email, userId);
    },

    async release(email) {
      await UserEmail.deleteOne({ _id: email });
    },

    async findUser(email) {
      const key = await UserEmail.findById(email).lean();
      return key ? User.findById(key.userId) : null;
    },
  };
}
