import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { RateLimitConfig, RegistrationLimitsConfig } from '../config';
import { ClientError, RateLimitedError } from '../errors';
import type { ClientInfo } from '../sessions/types';
import type { RateLimiter, RateLimitRule } from './rateLimiter';

/**
 * Throttles the public auth mutations per account, per address and per client IP (OWASP ASVS
 * 2.2.1). The per-IP ceiling counts only what signals abuse: registrations, failed logins and
 * failed refreshes, never a successful sign-in or rotation, so many honest clients can share one
 * address (docs/security.md, "What the per-IP ceiling counts").
 */
export interface AuthThrottle {
  /** Counts the call against the client's IP, whatever its outcome (resetPassword). */
  countClient(client: ClientInfo): Promise<void>;
  /**
   * Before register: counts the attempt against the client's IP ceiling and the lower per-IP
   * registration limit, and refuses an address (normalised, so letter case and spacing do not
   * make new ones) that has been answered EMAIL_TAKEN too often. Throws RateLimitedError.
   */
  countRegistration(email: string, client: ClientInfo): Promise<void>;
  /**
   * After register answered EMAIL_TAKEN: counts the answer against the address. Only these count
   * there, so concurrent sign-ups racing for one free address all get the truthful answer, while
   * asking again and again whether an address is taken is refused (docs/security.md).
   */
  emailTakenAnswered(email: string): Promise<void>;
  /**
   * Refuses at once when the client's IP is over its ceiling, runs `work`, and counts the call
   * against the IP only when `work` fails with a client error (a bad or reused refresh token).
   */
  countFailures<T>(client: ClientInfo, work: () => Promise<T>): Promise<T>;
  /**
   * Before a password is compared: refuses when the client's IP is over its ceiling, and counts
   * the attempt against the account, whether or not it exists. Throws RateLimitedError, so a
   * refused attempt costs no hash.
   */
  countLoginAttempt(email: string, client: ClientInfo): Promise<void>;
  /** After a wrong password or an unknown account: counts the attempt against the client's IP. */
  loginFailed(client: ClientInfo): Promise<void>;
  /** After a successful login: the account's failed attempts are forgiven. */
  loginSucceeded(email: string): Promise<void>;
}

// Emails of accounts that may not exist are kept only as hashes.
function emailHash(normalisedEmail: string): string {
  return createHash('sha256').update(normalisedEmail, 'utf8').digest('hex');
}

function registrationBucket(normalisedEmail: string): string {
  return `register:${emailHash(normalisedEmail)}`;
}

function accountBucket(normalisedEmail: string): string {
  return `login:${emailHash(normalisedEmail)}`;
}

/**
 * Who a client address is for every per-client limit: an IPv4 address as it is, an IPv6 address by
 * its /64 prefix, since one subscriber usually holds a whole /64 and could otherwise rotate
 * through it.
 */
export function clientAddressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  const [address = ''] = ip.toLowerCase().split('%');
  const [head = '', tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [
    ...headGroups,
    ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'),
    ...tailGroups,
  ];
  const prefix = groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, ''));
  return `${prefix.join(':')}::/64`;
}

/** The per-IP throttle bucket of a client address (see {@link clientAddressKey}). */
export function clientBucket(ip: string): string {
  return `ip:${clientAddressKey(ip)}`;
}

/** Wires the shared limiter to the configured per-account, per-address and per-IP rules. */
export function createAuthThrottle(
  config: RateLimitConfig,
  limiter: RateLimiter,
  registration: RegistrationLimitsConfig,
): AuthThrottle {
  const account: RateLimitRule = {
    limit: config.loginMaxFailures,
    windowSeconds: config.loginFailureWindow,
  };
  const perIp: RateLimitRule = { limit: config.ipLimit, windowSeconds: config.ipWindow };
  const registerPerIp: RateLimitRule = {
    limit: registration.ipLimit,
    windowSeconds: registration.ipWindow,
  };
  const registerPerAddress: RateLimitRule = {
    limit: registration.emailLimit,
    windowSeconds: registration.emailWindow,
  };

  async function countClient(client: ClientInfo): Promise<void> {
    if (perIp.limit > 0 && client.ip) await limiter.hit(clientBucket(client.ip), perIp);
  }

  async function checkClient(client: ClientInfo): Promise<void> {
    if (perIp.limit > 0 && client.ip) await limiter.check(clientBucket(client.ip), perIp);
  }

  /** Counts a failure that has already been answered; a full window changes nothing about it. */
  async function countFailure(client: ClientInfo): Promise<void> {
    if (perIp.limit > 0 && client.ip) await limiter.count(clientBucket(client.ip), perIp);
  }

  return {
    countClient,

    async countRegistration(email, client) {
      // Side by side: a registration is one round trip of throttling however many rules apply
      // (docs/data-model.md, "Database operations per API operation").
      await Promise.all([
        countClient(client),
        registerPerIp.limit > 0 && client.ip
          ? limiter.hit(`register-${clientBucket(client.ip)}`, registerPerIp)
          : undefined,
        limiter.check(registrationBucket(email), registerPerAddress),
      ]);
    },

    async emailTakenAnswered(email) {
      await limiter.count(registrationBucket(email), registerPerAddress);
    },

    async countFailures(client, work) {
      await checkClient(client);
      try {
        return await work();
      } catch (error) {
        // Only what the caller got wrong; a database outage is nobody's attempt.
        if (error instanceof ClientError && !(error instanceof RateLimitedError)) {
          await countFailure(client);
        }
        throw error;
      }
    },

    async countLoginAttempt(email, client) {
      await checkClient(client);
      await limiter.hit(accountBucket(email), account);
    },

    loginFailed: countFailure,

    async loginSucceeded(email) {
      await limiter.reset(accountBucket(email));
    },
  };
}
