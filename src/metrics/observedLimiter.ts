import { RateLimitedError } from '../errors';
import type { RateLimiter } from '../throttling/rateLimiter';
import type { ApiMetrics } from './metrics';

/** The kind of a throttle bucket: `ip`, `login`, `register-ip`, `register`, `mail-ip`, `mail`. */
function throttleOf(bucket: string): string {
  return bucket.slice(0, Math.max(0, bucket.indexOf(':'))) || 'other';
}

/** The limiter, with every refusal it hands a caller counted by kind of bucket. */
export function observedLimiter(limiter: RateLimiter, metrics: ApiMetrics): RateLimiter {
  const observe = async (bucket: string, call: Promise<void>): Promise<void> => {
    try {
      await call;
    } catch (error) {
      if (error instanceof RateLimitedError) metrics.throttleRefused(throttleOf(bucket));
      throw error;
    }
  };
  return {
    ...limiter,
    hit: (bucket, rule) => observe(bucket, limiter.hit(bucket, rule)),
    check: (bucket, rule) => observe(bucket, limiter.check(bucket, rule)),
  };
}
