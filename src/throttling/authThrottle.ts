import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { RateLimitConfig } from '../config';
import type { ClientInfo } from '../sessions/types';
import type { RateLimiter, RateLimitRule } from './rateLimiter';

/** Throttles the public auth mutations per account and per client IP (OWASP ASVS 2.2.1). */
export interface AuthThrottle {
  /** Before register or refresh: counts the call against the client's IP. */
  countClient(client: ClientInfo): Promise<void>;
  /**
   * Before a password is compared: counts the attempt against the client's IP and against the
   * account, whether or not it exists. Throws RateLimitedError, so a refused attempt costs no hash.
   */
  countLoginAttempt(email: string, client: ClientInfo): Promise<void>;
  /** After a successful login: the account's failed attempts are forgiven. */
  loginSucceeded(email: string): Promise<void>;
}

// Emails of accounts that may not exist are kept only as hashes.
function accountBucket(normalisedEmail: string): string {
  return `login:${createHash('sha256').update(normalisedEmail, 'utf8').digest('hex')}`;
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

/** Wires the shared limiter to the configured per-account and per-IP rules. */
export function createAuthThrottle(config: RateLimitConfig, limiter: RateLimiter): AuthThrottle {
  const account: RateLimitRule = {
    limit: config.loginMaxFailures,
    windowSeconds: config.loginFailureWindow,
  };
  const perIp: RateLimitRule = { limit: config.ipLimit, windowSeconds: config.ipWindow };

  async function countClient(client: ClientInfo): Promise<void> {
    if (perIp.limit > 0 && client.ip) await limiter.hit(clientBucket(client.ip), perIp);
  }

  return {
    countClient,
    async countLoginAttempt(email, client) {
      await countClient(client);
      await limiter.hit(accountBucket(email), account);
    },
    async loginSucceeded(email) {
      await limiter.reset(accountBucket(email));
    },
  };
}
