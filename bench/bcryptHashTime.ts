import bcrypt from 'bcrypt';

export interface BcryptHashTime {
  readonly cost: number;
  /** Median time of one bcrypt comparison, in milliseconds. */
  readonly medianMs: number;
  readonly samples: number;
}

/**
 * Times bcrypt comparisons at `cost`, one at a time (so each has a core to itself) at normal
 * priority, for about `seconds`, and returns the median. A login costs exactly one comparison.
 */
export async function measureBcryptHashTime(
  cost: number,
  seconds: number,
  minSamples = 3,
): Promise<BcryptHashTime> {
  const password = 'correct horse battery staple';
  const hash = await bcrypt.hash(password, cost);
  const times: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  while (times.length < minSamples || performance.now() < deadline) {
    const started = performance.now();
    await bcrypt.compare(password, hash);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { cost, medianMs: times[Math.floor(times.length / 2)] ?? NaN, samples: times.length };
}
