import type { AuditLog } from '../logging/audit';
import type { RequestScope } from '../logging/requestScope';
import { Types } from 'mongoose';
import type { Models } from '../db/database';
import { AuthenticationError, ForbiddenError, RateLimitedError, UserInputError } from '../errors';
import type { UserDocument } from '../db/models/User';
import type { AuthThrottle } from '../throttling/authThrottle';
import { isValidEmail, normaliseEmail, parseEmail } from './email';
import { createEmailDirectory } from './emailDirectory';
import { assertPasswordPolicy, type PasswordHasher } from '../passwords/password';
import type { IssuedRefreshToken, RefreshTokenStore } from '../sessions/refreshTokens';
import type { ClientInfo } from '../sessions/types';
import type { AccessTokens } from '../tokens/accessTokens';

/** The result of every flow that signs someone in; the shape of `AuthPayload`. */
export interface AuthResult {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  readonly refreshTokenExpiresAt: Date;
  readonly user: UserDocument;
}

export interface RegisterInput {
  readonly email: string;
  readonly password: string;
  readonly name?: string | null;
}

export interface LoginInput {
  readonly email: string;
  readonly password: string;
}

export interface AuthService {
  register(input: RegisterInput, client: ClientInfo): Promise<AuthResult>;
  login(input: LoginInput, client: ClientInfo): Promise<AuthResult>;
  refresh(refreshToken: string, client: ClientInfo): Promise<AuthResult>;
  logout(refreshToken: string, request?: RequestScope): Promise<boolean>;
}

export interface AuthServiceDeps {
  readonly models: Models;
  readonly passwords: PasswordHasher;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokenStore;
  readonly throttle: AuthThrottle;
  /** PASSWORD_MIN_LENGTH. */
  readonly passwordMinLength: number;
  /** Receives login_succeeded, login_failed and login_throttled. */
  readonly audit: AuditLog;
  /** REQUIRE_VERIFIED_EMAIL: login refuses unverified addresses (docs/recovery.md). */
  readonly requireVerifiedEmail?: boolean;
}

const MAX_NAME_LENGTH = 100;

function parseName(name: string | null | undefined): string | null {
  const trimmed = name?.trim() ?? '';
  if (trimmed.length > MAX_NAME_LENGTH) {
    throw new UserInputError(
      'INVALID_NAME',
      'name',
      `The name must be at most ${MAX_NAME_LENGTH} characters.`,
    );
  }
  return trimmed === '' ? null : trimmed;
}

function emailTaken(): UserInputError {
  return new UserInputError('EMAIL_TAKEN', 'email', 'An account with this email already exists.');
}

/** Signs an access token for a session's new refresh token and shapes the `AuthPayload`. */
export function issueAuthResult(
  accessTokens: AccessTokens,
  user: UserDocument,
  session: IssuedRefreshToken,
  fresh: boolean,
): AuthResult {
  const access = accessTokens.sign({
    userId: user.id,
    roles: user.roles,
    sessionId: session.sessionId,
    fresh,
    sessionExpiresAt: session.sessionExpiresAt,
  });
  return {
    accessToken: access.token,
    refreshToken: session.token,
    tokenType: 'Bearer',
    expiresIn: access.expiresIn,
    refreshTokenExpiresAt: session.expiresAt,
    user,
  };
}

/** Registration, login, refresh and logout: the flows behind the public mutations. */
export function createAuthService(deps: AuthServiceDeps): AuthService {
  const { models, passwords, accessTokens, refreshTokens, throttle, audit } = deps;
  const { User } = models;
  const emails = createEmailDirectory(models);
  const payload = (user: UserDocument, session: IssuedRefreshToken, fresh: boolean) =>
    issueAuthResult(accessTokens, user, session, fresh);

  /**
   * Re-reads the user once the login's session exists, as `refreshToken` re-reads the user after
   * rotating (docs/sessions.md, "Sessions"). A password change or account deletion that ran
   * between the password check and the session's creation has ended the user's other sessions
   * without seeing this one; from here on, such a change sees the session and ends it itself.
   * The user as read now, or null when the login must fail.
   *
   * The session list is not what decides here: on FerretDB a concurrent login's update of the
   * same user document can drop this session's entry (docs/data-model.md), which is no reason to
   * refuse a right password.
   */
  async function recheck(
    checked: UserDocument,
    password: string,
    client: ClientInfo,
  ): Promise<UserDocument | null> {
    const now = await User.findById(checked._id, { passwordHash: 1, roles: 1 });
    if (!now) return null;
    if (now.passwordHash === checked.passwordHash) return now;
    // Another login may have re-hashed the same password at the configured cost meanwhile: the
    // password decides, not the hash's bytes. Costs a comparison only when the hash changed.
    return (await passwords.verify(password, now.passwordHash, client.ip)) ? now : null;
  }

  /**
   * Stores a hash at the configured cost when the stored one was made at another
   * (docs/security.md, "Password hashing cost"). Conditional on the hash just checked, so a
   * password change racing with us wins; a failure only leaves the old hash, which the next login
   * retries.
   */
  async function upgradeHash(
    user: UserDocument,
    password: string,
    client: ClientInfo,
  ): Promise<void> {
    if (!passwords.needsRehash(user.passwordHash)) return;
    try {
      const passwordHash = await passwords.hash(password, client.ip);
      const { modifiedCount } = await User.updateOne(
        { _id: user._id, passwordHash: user.passwordHash },
        { $set: { passwordHash } },
      );
      if (modifiedCount === 1) user.passwordHash = passwordHash;
    } catch {
      // The login has succeeded; the hash keeps working at its old cost.
    }
  }

  return {
    async register(input, client) {
      const email = parseEmail(input.email);
      await throttle.countRegistration(email, client);
      assertPasswordPolicy(input.password, 'password', deps.passwordMinLength);
      const name = parseName(input.name);
      // Saves a bcrypt hash on the common case; the insert below is what really decides.
      if (await emails.exists(email)) throw emailTaken();
      const passwordHash = await passwords.hash(input.password, client.ip);
      const userId = new Types.ObjectId();
      if (!(await emails.claim(email, userId))) throw emailTaken();
      let user: UserDocument;
      try {
        user = await User.create({ _id: userId, email, passwordHash, name, roles: ['USER'] });
      } catch (error) {
        // Nothing refers to the claim yet: give the address back so it can be registered again.
        await emails.release(email);
        throw error;
      }
      return payload(user, await refreshTokens.startSession(user, client), true);
    },

    async login(input, client) {
      const email = normaliseEmail(input.email);
      // Before any lookup or hash: a throttled attempt costs nothing and says nothing.
      await throttle.countLoginAttempt(email, client).catch((error: unknown) => {
        if (error instanceof RateLimitedError) {
          audit(
            'login_throttled',
            {
              email: isValidEmail(email) ? email : undefined,
              ip: client.ip,
              retryAfter: error.retryAfter,
            },
            client.request,
          );
        }
        throw error;
      });
      const user = isValidEmail(email) ? await emails.findUser(email) : null;
      // Unknown email and wrong password cost one bcrypt comparison each and fail identically.
      const ok = user
        ? await passwords.verify(input.password, user.passwordHash, client.ip)
        : await passwords.verifyAgainstDummy(input.password, client.ip);
      if (!user || !ok) {
        await throttle.loginFailed(client);
        // The address only when it is one: people type passwords into the email field.
        audit(
          'login_failed',
          {
            userId: user?.id,
            email: user || !isValidEmail(email) ? undefined : email,
            ip: client.ip,
          },
          client.request,
        );
        throw new AuthenticationError('INVALID_CREDENTIALS');
      }
      await throttle.loginSucceeded(email);
      // Only after the password check, so the refusal tells nothing to someone without it.
      if (deps.requireVerifiedEmail && !user.emailVerified) {
        audit(
          'login_failed',
          { userId: user.id, ip: client.ip, reason: 'EMAIL_NOT_VERIFIED' },
          client.request,
        );
        throw new ForbiddenError('EMAIL_NOT_VERIFIED');
      }
      const session = await refreshTokens.startSession(user, client);
      const current = await recheck(user, input.password, client);
      if (!current) {
        await refreshTokens.revokeSession(user, session.sessionId, 'password-changed');
        audit(
          'login_failed',
          { userId: user.id, ip: client.ip, reason: 'PASSWORD_CHANGED' },
          client.request,
        );
        throw new AuthenticationError('INVALID_CREDENTIALS');
      }
      // A role change meanwhile has ended the sessions it saw; the token carries the roles now.
      user.roles = current.roles;
      await upgradeHash(user, input.password, client);
      audit(
        'login_succeeded',
        {
          userId: user.id,
          sessionId: session.sessionId,
          ip: client.ip,
          userAgent: client.userAgent,
        },
        client.request,
      );
      return payload(user, session, true);
    },

    async refresh(refreshToken, client) {
      // Only failures count against the address (docs/security.md, "What the per-IP ceiling counts").
      const next = await throttle.countFailures(client, () =>
        refreshTokens.rotate(refreshToken, client),
      );
      return payload(next.user, next, false);
    },

    async logout(refreshToken, request) {
      await refreshTokens.revokeByToken(refreshToken, request);
      return true;
    },
  };
}
