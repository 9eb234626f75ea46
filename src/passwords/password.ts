import { randomBytes } from 'node:crypto';
import { UserInputError } from '../errors';
import { isCommonPassword } from './commonPasswords';
import { sharedHashingPool, type HashingPool } from './hashingPool';

/** Default minimum password length in characters (NIST SP 800-63B asks for at least 8). */
export const MIN_PASSWORD_LENGTH = 8;
/** bcrypt reads at most 72 bytes and silently ignores the rest, so longer passwords are refused. */
export const MAX_PASSWORD_BYTES = 72;

/**
 * Refuses a password that is shorter than `minLength` characters, longer than bcrypt can take, or
 * on the bundled list of common passwords, naming the input `field`.
 */
export function assertPasswordPolicy(
  password: string,
  field = 'password',
  minLength = MIN_PASSWORD_LENGTH,
): void {
  password = normalisePassword(password);
  if ([...password].length < minLength) {
    throw new UserInputError(
      'WEAK_PASSWORD',
      field,
      `The password must be at least ${minLength} characters long.`,
    );
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    throw new UserInputError(
      'PASSWORD_TOO_LONG',
      field,
      `The password must be at most ${MAX_PASSWORD_BYTES} bytes long (UTF-8).`,
    );
  }
  if (isCommonPassword(password)) {
    throw new UserInputError(
      'WEAK_PASSWORD',
      field,
      'This password is too common and easy to guess. Please choose another.',
    );
  }
}

/**
 * The form a password is hashed and compared in: Unicode NFC (NIST SP 800-63B §5.1.1.2), so that
 * "é" typed as one code point or as "e" plus a combining accent is the same password.
 */
export function normalisePassword(password: string): string {
  return password.normalize('NFC');
}

/**
 * `clientAddress`, where given, is the address of the request the work is for: the hashing pool
 * charges it to that client's share (docs/security.md, "Password hashing under load").
 */
export interface PasswordHasher {
  hash(password: string, clientAddress?: string | null): Promise<string>;
  /** Compares in constant time; false for any password longer than bcrypt can check. */
  verify(password: string, hash: string, clientAddress?: string | null): Promise<boolean>;
  /** Spends the same time as a real {@link verify} for callers with no user to check against. */
  verifyAgainstDummy(password: string, clientAddress?: string | null): Promise<false>;
  /**
   * True when a stored hash was made at another cost than the configured one, so that a login
   * that just proved the password should store a new hash (docs/security.md, "Password hashing
   * cost").
   */
  needsRehash(hash: string): boolean;
}

// `$2b$12$<salt and hash>`: the version, then the cost as two digits.
const BCRYPT_COST = /^\$2[abxy]?\$(\d{2})\$/;

/** The cost a bcrypt hash was made with, or null when `hash` is not a bcrypt hash. */
export function bcryptCostOf(hash: string): number | null {
  const match = BCRYPT_COST.exec(hash);
  return match ? Number(match[1]) : null;
}

/**
 * bcrypt with the configured cost, run by a pool of low-priority worker threads so that hashing
 * never holds up the event loop, not even by competing with it for a core.
 */
export function createPasswordHasher(
  cost: number,
  pool: HashingPool = sharedHashingPool(),
): PasswordHasher {
  // Built now, at the configured cost, so the first unknown-email login costs what later ones do.
  // A failure is forgotten, not cached: the next caller builds it again.
  let dummyHash: Promise<string> | undefined;
  const buildDummyHash = (): Promise<string> => {
    const building = pool.hash(randomBytes(32).toString('base64url'), cost);
    building.catch(() => {
      if (dummyHash === building) dummyHash = undefined;
    });
    return building;
  };
  dummyHash = buildDummyHash();
  const tooLong = (password: string): boolean =>
    Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES;
  return {
    hash: (password, clientAddress) => pool.hash(normalisePassword(password), cost, clientAddress),
    async verify(password, hash, clientAddress) {
      const normalised = normalisePassword(password);
      // A longer input would be truncated to 72 bytes and could match a stored prefix.
      if (await pool.compare(normalised, hash, clientAddress)) return !tooLong(normalised);
      // Hashes stored before passwords were normalised hold the bytes as typed.
      if (normalised === password) return false;
      return (await pool.compare(password, hash, clientAddress)) && !tooLong(password);
    },
    async verifyAgainstDummy(password, clientAddress) {
      dummyHash ??= buildDummyHash();
      const normalised = normalisePassword(password);
      const dummy = await dummyHash;
      await pool.compare(normalised, dummy, clientAddress);
      // As many comparisons as verify() makes for a wrong password, so timing tells nothing.
      if (normalised !== password) await pool.compare(password, dummy, clientAddress);
      return false;
    },
    needsRehash(hash) {
      const stored = bcryptCostOf(hash);
      return stored !== null && stored !== cost;
    },
  };
}
