import { UserInputError } from '../errors';

// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is not checked here.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const MAX_EMAIL_LENGTH = 254; // RFC 5321 path limit

/** Trims and lower-cases an address, the form in which it is stored and looked up. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** True when `email` (already normalised) looks like an address we accept. */
export function isValidEmail(email: string): boolean {
  return email.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(email);
}

/** Normalises and validates an address given for registration. */
export function parseEmail(email: string, field = 'email'): string {
  const normalised = normaliseEmail(email);
  if (!isValidEmail(normalised)) {
    throw new UserInputError('INVALID_EMAIL', field, 'Please enter a valid email address.');
  }
  return normalised;
}
