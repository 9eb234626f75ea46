import { isValidObjectId } from 'mongoose';
import { silentAuditLog, type AuditLog } from '../audit';
import type { Models } from '../db';
import { AuthenticationError, UserInputError } from '../errors';
import type { RoleName, UserDocument } from '../models/User';
import { normaliseEmail } from './email';

export interface UserService {
  /** The signed-in user; UNAUTHENTICATED when the account no longer exists. */
  current(userId: string): Promise<UserDocument>;
  /** Users by creation order, for administrators. */
  list(limit: number, offset: number): Promise<UserDocument[]>;
  /** Replaces a user's roles; takes effect in access tokens issued from now on. */
  setRoles(userId: string, roles: readonly RoleName[]): Promise<UserDocument>;
  /** Same as {@link setRoles}, by email (the CLI's way to make the first ADMIN). */
  setRolesByEmail(email: string, roles: readonly RoleName[]): Promise<UserDocument | null>;
}

export const MAX_PAGE_SIZE = 100;

function uniqueRoles(roles: readonly RoleName[]): RoleName[] {
  return [...new Set(roles)];
}

/** Reading and administering user accounts. */
export function createUserService(models: Models, audit: AuditLog = silentAuditLog): UserService {
  const { User } = models;
  return {
    async current(userId) {
      const user = isValidObjectId(userId) ? await User.findById(userId) : null;
      if (!user) throw new AuthenticationError('INVALID_TOKEN');
      return user;
    },

    async list(limit, offset) {
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
        throw new UserInputError(
          'INVALID_ARGUMENT',
          'limit',
          `limit must be from 1 to ${MAX_PAGE_SIZE}.`,
        );
      }
      if (!Number.isInteger(offset) || offset < 0) {
        throw new UserInputError('INVALID_ARGUMENT', 'offset', 'offset must be 0 or more.');
      }
      return User.find().sort({ createdAt: 1, _id: 1 }).skip(offset).limit(limit);
    },

    async setRoles(userId, roles) {
      if (!isValidObjectId(userId)) {
        throw new UserInputError('INVALID_ID', 'userId', 'No user has this id.');
      }
      const user = await User.findById(userId);
      if (!user) throw new UserInputError('NOT_FOUND', 'userId', 'No user has this id.');
      const previousRoles = [...user.roles];
      user.roles = uniqueRoles(roles);
      await user.save();
      audit('roles_changed', { userId: user.id, roles: [...user.roles], previousRoles });
      return user;
    },

    async setRolesByEmail(email, roles) {
      const user = await User.findOne({ email: normaliseEmail(email) });
      if (!user) return null;
      const previousRoles = [...user.roles];
      user.roles = uniqueRoles(roles);
      await user.save();
      audit('roles_changed', { userId: user.id, roles: [...user.roles], previousRoles });
      return user;
    },
  };
}
