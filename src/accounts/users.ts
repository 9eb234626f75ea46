import { createEmailDirectory } from './emailDirectory';
import { isValidObjectId, type Types } from 'mongoose';
import type { RoleScopes } from '../config';
import { hasScope, scopesForRoles } from '../tokens/scopes';
import { silentAuditLog, type AuditLog } from '../logging/audit';
import type { RequestScope } from '../logging/requestScope';
import type { Models } from '../db/database';
import { AuthenticationError, ForbiddenError, UserInputError } from '../errors';
import type { RoleName, UserDocument } from '../db/models/User';
import { normaliseEmail } from './email';
import { isPlausibleSessionId, type RefreshTokenStore } from '../sessions/refreshTokens';
import type { Caller } from '../sessions/types';

export interface UserService {
  /**
   * The signed-in user, with the token's session checked, in one read by `_id`.
   * UNAUTHENTICATED/INVALID_TOKEN when the account no longer exists or the session has ended.
   */
  current(caller: Caller): Promise<UserDocument>;
  /**
   * The caller, whose stored roles must grant `scope` now (under the configured role→scope map):
   * the stored roles decide, not the token's scopes, so a demoted admin or a revoked session loses
   * admin powers at once rather than when the token expires. FORBIDDEN/MISSING_ROLE otherwise.
   */
  currentGranted(caller: Caller, scope: string): Promise<UserDocument>;
  /** Users by creation order, for administrators. */
  list(caller: Caller, limit: number, offset: number): Promise<UserDocument[]>;
  /**
   * Replaces a user's roles (docs/authorization.md, "Roles"). Removing a role ends every session
   * of that user, so no token keeps carrying it; removing the last ADMIN is refused with
   * FORBIDDEN/LAST_ADMIN.
   */
  setRoles(
    caller: Caller,
    userId: string,
    roles: readonly RoleName[],
    request?: RequestScope,
  ): Promise<UserDocument>;
  /**
   * Same as {@link setRoles}, by email (the CLI's way to make the first ADMIN), under the same
   * rules: the command line may not remove the last ADMIN either.
   */
  setRolesByEmail(email: string, roles: readonly RoleName[]): Promise<UserDocument | null>;
}

export interface UserServiceDeps {
  readonly models: Models;
  /** Ends the sessions of a user who loses a role. */
  readonly refreshTokens: Pick<RefreshTokenStore, 'revokeAllSessions'>;
  /** Receives roles_changed; nothing by default (the CLI). */
  readonly audit?: AuditLog;
  /** The configured role→scope map; none by default (the CLI only sets roles). */
  readonly roleScopes?: RoleScopes;
}

export const MAX_PAGE_SIZE = 100;

function uniqueRoles(roles: readonly RoleName[]): RoleName[] {
  return [...new Set(roles)];
}

/** Reading and administering user accounts. */
export function createUserService(deps: UserServiceDeps): UserService {
  const { models, refreshTokens, audit = silentAuditLog, roleScopes = {} } = deps;
  const { User } = models;

  /**
   * Refuses a change that took ADMIN from `userId` when no ADMIN is left, undoing it. FerretDB has
   * no transactions and evaluates a conditional update apart from its write, so the rule is kept
   * by writing first and looking afterwards (docs/authorization.md, "Administrator safety"):
   * of two demotions racing each other, the one that looks last sees both writes and backs out,
   * so both may be refused but never both pass. A rare operation: the look-up is the one query
   * on `roles` (docs/data-model.md).
   */
  async function keepAnAdmin(userId: Types.ObjectId, previousRoles: RoleName[]): Promise<void> {
    if (await User.exists({ roles: 'ADMIN' })) return;
    await User.updateOne({ _id: userId }, { $set: { roles: previousRoles } });
    throw new ForbiddenError('LAST_ADMIN');
  }

  async function applyRoles(
    user: UserDocument,
    roles: readonly RoleName[],
    request?: RequestScope,
  ): Promise<UserDocument> {
    const previousRoles = [...user.roles];
    const next = uniqueRoles(roles);
    await User.updateOne({ _id: user._id }, { $set: { roles: next } });
    if (previousRoles.includes('ADMIN') && !next.includes('ADMIN'))
      await keepAnAdmin(user._id, previousRoles);
    user.roles = next;
    let sessions = 0;
    if (previousRoles.some((role) => !next.includes(role))) {
      // Tokens carry the roles they were issued with: every session ends, so none keeps a role
      // the user lost. The list as read after the write, which a login's re-check completes
      // (docs/sessions.md, "Sessions").
      const listed = (await User.findById(user._id, { sessions: 1 })) ?? user;
      sessions = await refreshTokens.revokeAllSessions(listed, 'roles-changed');
      user.sessions.clear();
    }
    audit('roles_changed', { userId: user.id, roles: [...next], previousRoles, sessions }, request);
    return user;
  }

  // An access token counts while the user's list names its session: revoking a session removes
  // it from the list (and confirms the removal), so the one read that loads the caller also
  // decides, on every instance at once and with nothing cached (docs/data-model.md).
  async function current({ sub, sid }: Caller): Promise<UserDocument> {
    if (!isValidObjectId(sub) || !isPlausibleSessionId(sid))
      throw new AuthenticationError('INVALID_TOKEN');
    const user = await User.findById(sub);
    if (!user?.sessions?.has(sid)) throw new AuthenticationError('INVALID_TOKEN');
    return user;
  }

  async function currentGranted(caller: Caller, scope: string): Promise<UserDocument> {
    const actor = await current(caller);
    if (!hasScope(scopesForRoles(roleScopes, actor.roles), scope)) {
      throw new ForbiddenError('MISSING_ROLE');
    }
    return actor;
  }

  return {
    current,
    currentGranted,

    async list(caller, limit, offset) {
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
      await currentGranted(caller, 'users:read');
      return User.find().sort({ createdAt: 1, _id: 1 }).skip(offset).limit(limit);
    },

    async setRoles(caller, userId, roles, request) {
      await currentGranted(caller, 'users:write');
      if (!isValidObjectId(userId)) {
        throw new UserInputError('INVALID_ID', 'userId', 'No user has this id.');
      }
      const user = await User.findById(userId);
      if (!user) throw new UserInputError('NOT_FOUND', 'userId', 'No user has this id.');
      return applyRoles(user, roles, request);
    },

    async setRolesByEmail(email, roles) {
      const user = await findUserByEmail(models, email);
      return user ? applyRoles(user, roles) : null;
    },
  };
}

/**
 * The account registered with `email` (normalised here), or null. The one way other modules look
 * a user up by address, so how addresses are stored stays this folder's business.
 */
export function findUserByEmail(models: Models, email: string): Promise<UserDocument | null> {
  // Through the address's own document, keyed by the normalised address (docs/data-model.md).
  return createEmailDirectory(models).findUser(normaliseEmail(email));
}
