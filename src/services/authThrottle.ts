import { createHash } from 'node:crypto';
import type { RateLimitConfig } from '../config';
import type { ClientInfo } from './refreshTokens';
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

/** Wires the shared limiter to the configured per-account and per-IP rules. */
export function createAuthThrottle(config: RateLimitConfig, limiter: RateLimiter): AuthThrottle {
  const account: RateLimitRule = {
    limit: config.loginMaxFailures,
    windowSeconds: config.loginFailureWindow,
  };
  const perIp: RateLimitRule = { limit: config.ipLimit, windowSeconds: config.ipWindow };

  async function countClient(client: ClientInfo): Promise<void> {
    if (perIp.limit > 0 && client.ip) await limiter.hit(`ip:${client.ip}`, perIp);
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
