import { createHash, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 32; // 256 bits, as for refresh tokens (docs/recovery.md, "Tokens")
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A new reset or verification token: 256 random bits, base64url (43 characters). */
export function newRecoveryToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** True when `token` has the shape of one we issue; anything else is refused before a lookup. */
export function isWellFormedRecoveryToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** SHA-256, hex: the stored form of a token, and the `_id` of its document. */
export function hashRecoveryToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * A short digest of a password hash. A reset token remembers the one of the password it was
 * issued under, so any later password change voids it.
 */
export function passwordFingerprint(passwordHash: string): string {
  return createHash('sha256').update(passwordHash, 'utf8').digest('hex');
}
