import bcrypt from 'bcrypt';

export interface BcryptTiming {
  readonly cost: number;
  readonly concurrency: number;
  /** Median time of one comparison, in milliseconds. */
  readonly medianMs: number;
  /** Comparisons completed per second, all lanes together. */
  readonly perSecond: number;
  readonly samples: number;
}

/**
 * Runs bcrypt comparisons at `cost` for about `seconds` (and at least three per lane), in
 * `concurrency` lanes each doing one comparison after another, at normal priority on libuv's
 * thread pool. One lane gives the time of one hash on an otherwise idle core; as many lanes as
 * cores gives what the machine can hash right now, which on a shared machine is less than
 * cores × 1 / that time. A login costs exactly one comparison.
 */
export async function measureBcrypt(
  cost: number,
  seconds: number,
  concurrency = 1,
): Promise<BcryptTiming> {
  const password = 'correct horse battery staple';
  const hash = await bcrypt.hash(password, cost);
  const times: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  // Each lane's own rate, so a lane that finished early does not count as idle hashing.
  const lane = async (): Promise<number> => {
    let done = 0;
    for (; done < 3 || performance.now() < deadline; done += 1) {
      const start = performance.now();
      await bcrypt.compare(password, hash);
      times.push(performance.now() - start);
    }
    return done / ((performance.now() - started) / 1000);
  };
  const rates = await Promise.all(Array.from({ length: concurrency }, lane));
  times.sort((a, b) => a - b);
  return {
    cost,
    concurrency,
    medianMs: times[Math.floor(times.length / 2)] ?? NaN,
    perSecond: rates.reduce((total, rate) => total + rate, 0),
    samples: times.length,
  };
}
