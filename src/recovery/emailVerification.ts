import type { RecoveryConfig } from '../config';
import type { Models } from '../db/database';
import type { UserDocument } from '../db/models/User';
import { AuthenticationError } from '../errors';
import type { UserService } from '../accounts/users';
import type { AuditLog } from '../logging/audit';
import type { RequestScope } from '../logging/requestScope';
import type { MailQueue } from '../mail/sendQueue';
import type { Caller, ClientInfo } from '../sessions/types';
import { recoveryLink, verificationMessage } from './messages';
import type { RecoveryThrottle } from './recoveryThrottle';
import type { RecoveryTokenStore } from './recoveryTokenStore';

/** Proving that an account's address is its owner's (docs/recovery.md). */
export interface EmailVerificationService {
  /** Queues a verification mail for `user` (after register); returns at once. */
  send(user: UserDocument, request?: RequestScope): void;
  /**
   * The signed-in caller asks for a new verification mail; true whether or not one is sent (none
   * when the address is already verified). Throttled like reset requests.
   */
  request(caller: Caller, client: ClientInfo): Promise<boolean>;
  /**
   * Marks the address verified with a mailed token and returns the user. UNAUTHENTICATED /
   * INVALID_VERIFICATION_TOKEN for a wrong, used, expired or superseded token. `request` is named
   * in the audit line.
   */
  verify(token: string, request?: RequestScope): Promise<UserDocument>;
}

export interface EmailVerificationDeps {
  readonly config: RecoveryConfig;
  readonly models: Models;
  readonly users: UserService;
  readonly tokens: RecoveryTokenStore;
  readonly throttle: RecoveryThrottle;
  readonly mail: MailQueue;
  readonly audit: AuditLog;
}

export function createEmailVerificationService(
  deps: EmailVerificationDeps,
): EmailVerificationService {
  const { config, models, tokens, mail } = deps;

  function send(user: UserDocument, request?: RequestScope): void {
    mail.enqueue({
      kind: 'email-verification',
      reqId: request?.requestId,
      async compose() {
        const token = await tokens.issue('email-verification', user, config.emailVerificationTtl);
        const link = recoveryLink(config.appUrl, 'verify-email', token);
        return verificationMessage(user.email, link, config.emailVerificationTtl);
      },
    });
  }

  return {
    send,

    async request(caller, client) {
      const user = await deps.users.current(caller);
      await deps.throttle.countMailRequest('email-verification', user.email, client);
      if (!user.emailVerified) send(user, client.request);
      return true;
    },

    async verify(token, request) {
      const record = await tokens.find('email-verification', token);
      const user = record ? await models.User.findById(record.userId) : null;
      // The address must still be the one the mail went to.
      if (!record || !user || user.email !== record.email || !(await tokens.consume(record))) {
        throw new AuthenticationError('INVALID_VERIFICATION_TOKEN');
      }
      if (!user.emailVerified) {
        await models.User.updateOne({ _id: user._id }, { $set: { emailVerified: true } });
        user.emailVerified = true;
        deps.audit('email_verified', { userId: user.id }, request);
      }
      return user;
    },
  };
}
