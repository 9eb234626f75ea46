import type { Models } from '../db/database';
import { RateLimitedError } from '../errors';

/** At most `limit` hits per bucket in any `windowSeconds`. */
export interface RateLimitRule {
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface RateLimiter {
  /**
   * Counts one hit against `bucket`, or throws RateLimitedError (with the seconds until a hit is
   * free again) when the window already holds `rule.limit` of them. A refused hit is not counted.
   */
  hit(bucket: string, rule: RateLimitRule): Promise<void>;
  /** Forgets every hit of `bucket`. */
  reset(bucket: string): Promise<void>;
}

const PURGE_INTERVAL_MS = 60_000;

/**
 * A sliding-window limiter whose state is shared through the database by every instance.
 *
 * Each hit is its own document: insert first, then count. The hit that makes the count exceed the
 * limit sees every hit inserted before it, so concurrent callers on any instance can never push a
 * window past its limit. Counters updated with `$inc` would be simpler, but FerretDB applies
 * `$inc` as a read-modify-write and loses concurrent increments; plain inserts are atomic
 * everywhere.
 */
export function createRateLimiter(models: Pick<Models, 'RateLimitHit'>): RateLimiter {
  const { RateLimitHit } = models;
  let lastPurge = 0;

  function purgeExpired(now: number): void {
    if (now - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = now;
    // Housekeeping only: expired hits are already ignored by every query, so a failure can wait
    // for the next round.
    void RateLimitHit.deleteMany({ expiresAt: { $lte: new Date(now) } }).catch(() => undefined);
  }

  function countSince(bucket: string, since: Date): Promise<number> {
    return RateLimitHit.countDocuments({ bucket, at: { $gt: since } });
  }

  /** Seconds until the window holds fewer than `limit` hits again (at least 1). */
  async function retryAfter(bucket: string, rule: RateLimitRule, now: number): Promise<number> {
    const windowMs = rule.windowSeconds * 1000;
    const [blocking] = await RateLimitHit.find({ bucket, at: { $gt: new Date(now - windowMs) } })
      .sort({ at: -1 })
      .skip(rule.limit - 1)
      .limit(1)
      .lean();
    const freeAt = blocking ? blocking.at.getTime() + windowMs : now;
    return Math.max(1, Math.ceil((freeAt - now) / 1000));
  }

  return {
    async hit(bucket, rule) {
      const now = Date.now();
      purgeExpired(now);
      const since = new Date(now - rule.windowSeconds * 1000);
      // Already full: refuse without writing, so a flood costs reads only.
      if ((await countSince(bucket, since)) >= rule.limit) {
        throw new RateLimitedError(await retryAfter(bucket, rule, now));
      }
      const mine = await RateLimitHit.create({
        bucket,
        at: new Date(now),
        expiresAt: new Date(now + rule.windowSeconds * 1000),
      });
      if ((await countSince(bucket, since)) > rule.limit) {
        await RateLimitHit.deleteOne({ _id: mine._id });
        throw new RateLimitedError(await retryAfter(bucket, rule, now));
      }
    },

    async reset(bucket) {
      await RateLimitHit.deleteMany({ bucket });
    },
  };
}
