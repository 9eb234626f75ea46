import { createHash } from 'node:crypto';
import type { RecoveryConfig } from '../config';
import type { RecoveryPurpose } from '../db/models/RecoveryToken';
import type { ClientInfo } from '../sessions/types';
import { clientBucket } from '../throttling/authThrottle';
import type { RateLimiter, RateLimitRule } from '../throttling/rateLimiter';

/** Limits how much mail anyone can make the API send (docs/recovery.md, "Abuse"). */
export interface RecoveryThrottle {
  /**
   * Counts a request for mail to `email` (normalised) against the client's IP and the address,
   * whether or not an account has it. Throws RateLimitedError.
   */
  countMailRequest(purpose: RecoveryPurpose, email: string, client: ClientInfo): Promise<void>;
}

/** The shared limiter with the RECOVERY_* rules: per address and purpose, and per client IP. */
export function createRecoveryThrottle(
  config: RecoveryConfig,
  limiter: RateLimiter,
): RecoveryThrottle {
  const perAddress: RateLimitRule = { limit: config.emailLimit, windowSeconds: config.emailWindow };
  const perIp: RateLimitRule = { limit: config.ipLimit, windowSeconds: config.ipWindow };
  return {
    async countMailRequest(purpose, email, client) {
      if (perIp.limit > 0 && client.ip) await limiter.hit(`mail-${clientBucket(client.ip)}`, perIp);
      // Addresses that may belong to nobody are kept only as hashes, as for login.
      const address = createHash('sha256').update(email, 'utf8').digest('hex');
      await limiter.hit(`mail:${purpose}:${address}`, perAddress);
    },
  };
}
