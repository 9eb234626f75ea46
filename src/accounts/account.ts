import type { Models } from '../db/database';
import type { UserDocument } from '../db/models/User';
import { AuthenticationError } from '../errors';
import { issueAuthResult, type AuthResult } from './authentication';
import { createEmailDirectory } from './emailDirectory';
import { assertPasswordPolicy, type PasswordHasher } from '../passwords/password';
import type { RefreshTokenStore } from '../sessions/refreshTokens';
import type { Caller, ClientInfo } from '../sessions/types';
import type { AuditLog } from '../logging/audit';
import type { AuthThrottle } from '../throttling/authThrottle';
import type { AccessTokens } from '../tokens/accessTokens';
import type { UserService } from './users';

export interface ChangePasswordInput {
  readonly currentPassword: string;
  readonly newPassword: string;
}

export interface AccountService {
  /**
   * Replaces the caller's password. Every existing session ends, the calling one included, and
   * the result starts a new session with a fresh access token: whoever held an old refresh token,
   * perhaps the reason for the change, is locked out.
   */
  changePassword(
    caller: Caller,
    input: ChangePasswordInput,
    client: ClientInfo,
  ): Promise<AuthResult>;
  /** Removes the caller's account and every token of it, after checking the password. */
  deleteAccount(caller: Caller, password: string, client: ClientInfo): Promise<boolean>;
}

export interface AccountServiceDeps {
  readonly models: Models;
  readonly users: UserService;
  readonly passwords: PasswordHasher;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokenStore;
  readonly audit: AuditLog;
  /** Password checks here count against the same per-account throttle as login. */
  readonly throttle: AuthThrottle;
  readonly passwordMinLength: number;
}

/** What signed-in users do to their own account. */
export function createAccountService(deps: AccountServiceDeps): AccountService {
  const { models, users, passwords, accessTokens, refreshTokens, audit, throttle } = deps;

  // A stolen access token must not become a way around login throttling to guess the password,
  // nor a quiet one: a wrong password is audited as login's is, with the operation that asked
  // (docs/operations.md, "Audit events").
  async function checkPassword(
    user: UserDocument,
    password: string,
    client: ClientInfo,
    operation: 'changePassword' | 'deleteAccount',
  ) {
    await throttle.countLoginAttempt(user.email, client);
    if (!(await passwords.verify(password, user.passwordHash, client.ip))) {
      audit('login_failed', { userId: user.id, operation, ip: client.ip }, client.request);
      throw new AuthenticationError('INVALID_CREDENTIALS');
    }
    await throttle.loginSucceeded(user.email);
  }
  const { User } = models;
  const emails = createEmailDirectory(models);

  return {
    async changePassword(caller, { currentPassword, newPassword }, client) {
      const user = await users.current(caller);
      assertPasswordPolicy(newPassword, 'newPassword', deps.passwordMinLength);
      await checkPassword(user, currentPassword, client, 'changePassword');
      const passwordHash = await passwords.hash(newPassword, client.ip);
      // Conditional on the hash just checked, so that on MongoDB of two concurrent changes only one
      // applies (FerretDB evaluates the condition, but not atomically with the write). A rare
      // operation, so the extra filter field is acceptable (docs/data-model.md).
      const { modifiedCount } = await User.updateOne(
        { _id: user._id, passwordHash: user.passwordHash },
        { $set: { passwordHash } },
      );
      if (modifiedCount !== 1) throw new AuthenticationError('INVALID_CREDENTIALS');
      user.passwordHash = passwordHash;

      // The list as it is now, not as it was read before the password check: a login that checked
      // the old password meanwhile has listed its session, and must end with the others (its own
      // re-check covers a session listed after this read; docs/sessions.md, "Sessions").
      const listed = (await User.findById(user._id, { sessions: 1 })) ?? user;
      const sessions = await refreshTokens.revokeAllSessions(listed, 'password-changed');
      user.sessions.clear();
      audit(
        'password_changed',
        {
          userId: user.id,
          sessions,
          reason: 'password-changed',
          ip: client.ip,
          userAgent: client.userAgent,
        },
        client.request,
      );
      return issueAuthResult(
        accessTokens,
        user,
        await refreshTokens.startSession(user, client),
        true,
      );
    },

    async deleteAccount(caller, password, client) {
      const user = await users.current(caller);
      await checkPassword(user, password, client, 'deleteAccount');
      // The user first: a refresh racing with us then finds no account and gives up. The address
      // afterwards, so nobody can register it while the account still exists.
      await User.deleteOne({ _id: user._id });
      await Promise.all([
        emails.release(user.email),
        refreshTokens.revokeAllSessions(user, 'user-deleted'),
      ]);
      audit('account_deleted', { userId: user.id }, client.request);
      return true;
    },
  };
}
