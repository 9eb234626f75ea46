import { connectDatabase, type Database } from '../../src/db/database';
import { RateLimitedError } from '../../src/errors';
import { createRateLimiter, type RateLimiter } from '../../src/throttling/rateLimiter';
import { uniqueDbName } from '../helpers/testServer';

let first: Database;
let second: Database;
let limiterA: RateLimiter;
let limiterB: RateLimiter;

beforeAll(async () => {
  const uri = process.env.MONGODB_URI!;
  const dbName = uniqueDbName();
  // Two connections, as two API instances would have.
  first = await connectDatabase(uri, { dbName });
  second = await connectDatabase(uri, { dbName });
  limiterA = createRateLimiter(first.models);
  limiterB = createRateLimiter(second.models);
});

afterAll(async () => {
  await first.connection.dropDatabase();
  await second.close();
  await first.close();
});

async function outcome(attempt: Promise<void>): Promise<'counted' | number> {
  try {
    await attempt;
    return 'counted';
  } catch (error) {
    if (error instanceof RateLimitedError) return error.retryAfter;
    throw error;
  }
}

describe('createRateLimiter', () => {
  it('counts concurrent first hits of new buckets from two instances without an error', async () => {
    // Each hit creates the bucket's document if it is missing; two creations of one document race.
    const rule = { limit: 1000, windowSeconds: 60 };
    for (let round = 0; round < 10; round += 1) {
      const bucket = `fresh:${round}`;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          outcome((i % 2 ? limiterA : limiterB).hit(bucket, rule)),
        ),
      );
      expect(results).toEqual(Array(8).fill('counted'));
      await Promise.all(
        Array.from({ length: 4 }, (_, i) => (i % 2 ? limiterA : limiterB).reset(`reset:${round}`)),
      );
    }
  });

  it('never lets concurrent hits from two instances exceed the limit', async () => {
    const rule = { limit: 5, windowSeconds: 60 };
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_unused, i) =>
        outcome((i % 2 ? limiterA : limiterB).hit('race', rule)),
      ),
    );
    const countedInBurst = burst.filter((result) => result === 'counted').length;
    expect(countedInBurst).toBeLessThanOrEqual(5);
    // Colliding hits may all be refused; one by one, the rest of the window's room fills up.
    let countedAfter = 0;
    for (let i = 0; i < 10; i += 1) {
      if ((await outcome(limiterA.hit('race', rule))) === 'counted') countedAfter += 1;
    }
    expect(countedInBurst + countedAfter).toBe(5);
    expect(await first.models.RateLimitHit.countDocuments({ bucket: 'race' })).toBe(5);
  });

  it('answers with the seconds until the oldest counted hit leaves the window', async () => {
    const rule = { limit: 2, windowSeconds: 600 };
    await limiterA.hit('countdown', rule);
    await limiterB.hit('countdown', rule);
    const retryAfter = await outcome(limiterA.hit('countdown', rule));
    expect(retryAfter).toBeGreaterThanOrEqual(599);
    expect(retryAfter).toBeLessThanOrEqual(600);
  });

  it('does not count refused hits, so a flood does not extend the wait', async () => {
    const rule = { limit: 1, windowSeconds: 600 };
    await limiterA.hit('flood', rule);
    for (let i = 0; i < 10; i += 1) await outcome(limiterB.hit('flood', rule));
    expect(await first.models.RateLimitHit.countDocuments({ bucket: 'flood' })).toBe(1);
  });

  it('keeps buckets apart and forgets a bucket on reset', async () => {
    const rule = { limit: 1, windowSeconds: 600 };
    await limiterA.hit('one', rule);
    expect(await outcome(limiterA.hit('two', rule))).toBe('counted');
    expect(await outcome(limiterA.hit('one', rule))).toEqual(expect.any(Number));
    await limiterB.reset('one');
    expect(await outcome(limiterA.hit('one', rule))).toBe('counted');
  });

  it('ignores hits older than the window, even before they are purged', async () => {
    const rule = { limit: 1, windowSeconds: 60 };
    const longAgo = new Date(Date.now() - 61_000);
    await first.models.RateLimitHit.create({
      _id: 'stale#0',
      bucket: 'stale',
      at: longAgo,
      expiresAt: new Date(longAgo.getTime() + 60_000),
    });
    await first.models.RateLimitBucket.create({ _id: 'stale', next: 1, expiresAt: longAgo });
    expect(await outcome(limiterA.hit('stale', rule))).toBe('counted');
  });

  it('finds its place again when the bucket state lags behind or is lost', async () => {
    const rule = { limit: 3, windowSeconds: 600 };
    for (let i = 0; i < 3; i += 1) await limiterA.hit('lagging', rule);
    await first.models.RateLimitBucket.deleteOne({ _id: 'lagging' });
    expect(await outcome(limiterB.hit('lagging', rule))).toEqual(expect.any(Number));
    expect(await first.models.RateLimitHit.countDocuments({ bucket: 'lagging' })).toBe(3);
  });

  it('addresses every hit and bucket by _id, so a bucket costs the same however many exist', async () => {
    await limiterA.hit('addressed', { limit: 5, windowSeconds: 60 });
    expect(await first.models.RateLimitHit.exists({ _id: 'addressed#0' })).not.toBeNull();
    expect((await first.models.RateLimitBucket.findById('addressed').lean())?.next).toBe(1);
  });
});
