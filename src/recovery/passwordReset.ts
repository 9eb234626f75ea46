import type { RecoveryConfig } from '../config';
import type { Models } from '../db/database';
import { AuthenticationError } from '../errors';
import { issueAuthResult, type AuthResult } from '../accounts/authentication';
import { parseEmail } from '../accounts/email';
import { findUserByEmail } from '../accounts/users';
import type { AuditLog } from '../logging/audit';
import type { MailQueue } from '../mail/sendQueue';
import { assertPasswordPolicy, type PasswordHasher } from '../passwords/password';
import type { RefreshTokenStore } from '../sessions/refreshTokens';
import type { ClientInfo } from '../sessions/types';
import type { AuthThrottle } from '../throttling/authThrottle';
import type { AccessTokens } from '../tokens/accessTokens';
import { passwordResetMessage, recoveryLink } from './messages';
import type { RecoveryThrottle } from './recoveryThrottle';
import type { RecoveryTokenStore } from './recoveryTokenStore';
import { passwordFingerprint } from './tokens';

/** "Forgot password": a mailed one-time link, then a new password (docs/recovery.md). */
export interface PasswordResetService {
  /**
   * Mails a reset link if an account has `email`. Answers true for every well-formed address, in
   * the same way and time: the lookup happens after the answer, in the mail queue.
   */
  request(email: string, client: ClientInfo): Promise<boolean>;
  /**
   * Sets a new password with a mailed token, ends every session of the account and starts a new
   * one. UNAUTHENTICATED / INVALID_RESET_TOKEN for a wrong, used, expired or superseded token.
   */
  reset(token: string, newPassword: string, client: ClientInfo): Promise<AuthResult>;
}

export interface PasswordResetDeps {
  readonly config: RecoveryConfig;
  readonly models: Models;
  readonly tokens: RecoveryTokenStore;
  readonly throttle: RecoveryThrottle;
  /** The auth mutations' per-IP ceiling: a reset costs a bcrypt hash, like register. */
  readonly authThrottle: AuthThrottle;
  readonly mail: MailQueue;
  readonly passwords: PasswordHasher;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokenStore;
  readonly audit: AuditLog;
  /** PASSWORD_MIN_LENGTH. */
  readonly passwordMinLength: number;
}

export function createPasswordResetService(deps: PasswordResetDeps): PasswordResetService {
  const { config, models, tokens, mail, passwords, refreshTokens } = deps;
  const invalid = () => new AuthenticationError('INVALID_RESET_TOKEN');

  return {
    async request(email, client) {
      const address = parseEmail(email);
      await deps.throttle.countMailRequest('password-reset', address, client);
      mail.enqueue({
        kind: 'password-reset',
        reqId: client.request?.requestId,
        async compose() {
          const user = await findUserByEmail(models, address);
          // Unknown address: no mail, and nothing the caller could observe.
          if (!user) return null;
          const token = await tokens.issue('password-reset', user, config.passwordResetTtl);
          const link = recoveryLink(config.appUrl, 'reset-password', token);
          return passwordResetMessage(user.email, link, config.passwordResetTtl);
        },
      });
      return true;
    },

    async reset(token, newPassword, client) {
      await deps.authThrottle.countClient(client);
      assertPasswordPolicy(newPassword, 'newPassword', deps.passwordMinLength);
      const record = await tokens.find('password-reset', token);
      const user = record ? await models.User.findById(record.userId) : null;
      if (
        !record ||
        !user ||
        user.email !== record.email ||
        passwordFingerprint(user.passwordHash) !== record.passwordFingerprint
      ) {
        throw invalid();
      }
      const passwordHash = await passwords.hash(newPassword, client.ip);
      if (!(await tokens.consume(record))) throw invalid();
      // Conditional on the hash the token was checked against: a password change in between wins.
      // The mail reached this address, so following its link also proves the address.
      const { modifiedCount } = await models.User.updateOne(
        { _id: user._id, passwordHash: user.passwordHash },
        { $set: { passwordHash, emailVerified: true } },
      );
      if (modifiedCount !== 1) throw invalid();
      user.passwordHash = passwordHash;
      user.emailVerified = true;

      // Whoever knew the old password, or holds a stolen refresh token, is out: every session
      // listed once the new hash is stored, so a sign-in that finished meanwhile goes too (a later
      // one fails its own re-check; docs/sessions.md, "Sessions").
      const listed = (await models.User.findById(user._id, { sessions: 1 })) ?? user;
      const sessions = await refreshTokens.revokeAllSessions(listed, 'password-changed');
      deps.audit(
        'password_reset',
        {
          userId: user.id,
          sessions,
          ip: client.ip,
          userAgent: client.userAgent,
        },
        client.request,
      );
      return issueAuthResult(
        deps.accessTokens,
        user,
        await refreshTokens.startSession((await models.User.findById(user._id)) ?? user, client),
        true,
      );
    },
  };
}
