import { isDuplicateKeyError, upsertRetryingRace, type Models } from '../db/database';
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
  /**
   * Counts one hit against `bucket` when the window has room, and says whether it did: for a
   * failure already answered, which a full window has nothing more to refuse.
   */
  count(bucket: string, rule: RateLimitRule): Promise<boolean>;
  /**
   * Throws RateLimitedError when the window of `bucket` already holds `rule.limit` hits, and
   * otherwise counts nothing: for calls counted only when they fail (docs/security.md, "What the
   * per-IP ceiling counts"). Reads only, by `_id`.
   */
  check(bucket: string, rule: RateLimitRule): Promise<void>;
  /** Forgets every hit of `bucket`. */
  reset(bucket: string): Promise<void>;
}

// Insert attempts per hit before giving up and refusing it. Each failed attempt means another
// hit took that place a moment ago, so this is reached only when far more requests race for one
// bucket than any limit allows.
const MAX_ATTEMPTS = 64;

function hitId(bucket: string, n: number): string {
  return `${bucket}#${n}`;
}

/**
 * A sliding-window limiter whose state is shared through the database by every instance, read and
 * written by `_id` only (docs/data-model.md, "ratelimithits").
 *
 * The hits of a bucket are numbered. Hit n is counted by inserting the document `<bucket>#n`, and
 * only after reading hit n − limit: if that one is still inside the window, the window is full.
 * Since `_id` is unique, two callers can never both take place n, so concurrent callers on any
 * instance can never push a window past its limit; a caller that loses a place tries the next.
 * Counters updated with `$inc` would be simpler, but FerretDB applies `$inc` (and every other
 * update) as a read-modify-write and loses concurrent increments; inserts are atomic everywhere.
 * Where to start counting comes from the bucket's state document, a hint that may lag.
 */
export function createRateLimiter(
  models: Pick<Models, 'RateLimitHit' | 'RateLimitBucket'>,
): RateLimiter {
  const { RateLimitHit, RateLimitBucket } = models;

  async function tryInsert(bucket: string, n: number, now: number, windowMs: number) {
    try {
      await RateLimitHit.create({
        _id: hitId(bucket, n),
        bucket,
        at: new Date(now),
        expiresAt: new Date(now + windowMs),
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  /** Moves a bucket's fields forward with `$max`, creating it if needed; only a hint for counting. */
  function moveForward(bucket: string, fields: Record<string, number | Date>) {
    return upsertRetryingRace(() =>
      RateLimitBucket.updateOne({ _id: bucket }, { $max: fields }, { upsert: true }),
    );
  }

  function refusal(blockingAt: number, now: number, windowMs: number): RateLimitedError {
    const freeAt = blockingAt + windowMs;
    return new RateLimitedError(Math.max(1, Math.ceil((freeAt - now) / 1000)));
  }

  /** Counts one hit, or returns the refusal when the window is full (nothing is then written). */
  async function tryHit(
    bucket: string,
    rule: RateLimitRule,
  ): Promise<RateLimitedError | undefined> {
    const now = Date.now();
    const windowMs = rule.windowSeconds * 1000;
    const state = await RateLimitBucket.findById(bucket).lean();
    // Hits before a reset, or older than the window, do not count.
    const since = Math.max(now - windowMs, state?.resetAt?.getTime() ?? 0);
    let n = state?.next ?? 0;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1, n += 1) {
      if (n >= rule.limit) {
        const blocking = await RateLimitHit.findById(hitId(bucket, n - rule.limit)).lean();
        // Already full: refuse without writing, so a flood costs reads only.
        if (blocking && blocking.at.getTime() > since) {
          return refusal(blocking.at.getTime(), now, windowMs);
        }
      }
      if (await tryInsert(bucket, n, now, windowMs)) {
        await moveForward(bucket, { next: n + 1, expiresAt: new Date(now + windowMs) });
        return undefined;
      }
    }
    return new RateLimitedError(1);
  }

  return {
    async check(bucket, rule) {
      const now = Date.now();
      const windowMs = rule.windowSeconds * 1000;
      const state = await RateLimitBucket.findById(bucket).lean();
      const next = state?.next ?? 0;
      if (next < rule.limit) return;
      const since = Math.max(now - windowMs, state?.resetAt?.getTime() ?? 0);
      // The hint may lag by the hits still being counted; those are at most the few in flight.
      const blocking = await RateLimitHit.findById(hitId(bucket, next - rule.limit)).lean();
      if (blocking && blocking.at.getTime() > since) {
        throw refusal(blocking.at.getTime(), now, windowMs);
      }
    },

    async hit(bucket, rule) {
      const refused = await tryHit(bucket, rule);
      if (refused) throw refused;
    },

    async count(bucket, rule) {
      return (await tryHit(bucket, rule)) === undefined;
    },

    async reset(bucket) {
      const now = Date.now();
      // Only ever moves forward, so a reset and a concurrent hit cannot undo each other.
      await moveForward(bucket, { resetAt: new Date(now), expiresAt: new Date(now + 1000) });
    },
  };
}
