import { normaliseEmail } from '../accounts/email';
import type { AuthService } from '../accounts/authentication';
import { UserInputError } from '../errors';
import type { AuthThrottle } from './authThrottle';

/**
 * Counts every EMAIL_TAKEN answer of `register` against the address it names, so asking whether
 * an address has an account is limited per address (docs/security.md, "Registration").
 */
export function withRegistrationProbeCount(auth: AuthService, throttle: AuthThrottle): AuthService {
  return {
    ...auth,
    async register(input, client) {
      try {
        return await auth.register(input, client);
      } catch (error) {
        if (error instanceof UserInputError && error.reason === 'EMAIL_TAKEN') {
          await throttle.emailTakenAnswered(normaliseEmail(input.email));
        }
        throw error;
      }
    },
  };
}
