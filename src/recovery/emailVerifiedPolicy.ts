import type { UserFields } from '../db/models/User';
import { ForbiddenError } from '../errors';

/**
 * The `emailVerified` rule: true when the account's address has been verified. Written as a
 * plain predicate so that the authorization layer can register it as a policy and services can
 * call it directly (docs/recovery.md, "Requiring a verified address").
 */
export function emailVerifiedPolicy(user: Pick<UserFields, 'emailVerified'>): boolean {
  return user.emailVerified === true;
}

/** Throws FORBIDDEN / EMAIL_NOT_VERIFIED unless {@link emailVerifiedPolicy} holds. */
export function assertEmailVerified(user: Pick<UserFields, 'emailVerified'>): void {
  if (!emailVerifiedPolicy(user)) throw new ForbiddenError('EMAIL_NOT_VERIFIED');
}
