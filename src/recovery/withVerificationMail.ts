import type { AuthService } from '../accounts/authentication';
import type { EmailVerificationService } from './emailVerification';

/**
 * The auth service, with a verification mail queued after every successful `register`. The
 * answer does not wait for the mail (docs/recovery.md).
 */
export function withVerificationMail(
  auth: AuthService,
  verification: Pick<EmailVerificationService, 'send'>,
): AuthService {
  return {
    ...auth,
    async register(input, client) {
      const result = await auth.register(input, client);
      verification.send(result.user, client.request);
      return result;
    },
  };
}
