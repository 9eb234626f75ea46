import bcrypt from 'bcrypt';

export interface BcryptHashTime {
  readonly cost: number;
  /** Median wall-clock time of one comparison, in milliseconds. */
  readonly medianMs: number;
  /** CPU time one comparison took, in milliseconds: unlike wall time, unmoved by other load. */
  readonly cpuMs: number;
  readonly samples: number;
}

/**
 * Times bcrypt comparisons at `cost`, one at a time (so each has a core to itself) at normal
 * priority, for about `seconds` and at least three. A login costs exactly one comparison.
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
  const cpuBefore = process.cpuUsage();
  while (times.length < minSamples || performance.now() < deadline) {
    const started = performance.now();
    await bcrypt.compare(password, hash);
    times.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  times.sort((a, b) => a - b);
  return {
    cost,
    medianMs: times[Math.floor(times.length / 2)] ?? NaN,
    cpuMs: (cpu.user + cpu.system) / 1000 / times.length,
    samples: times.length,
  };
}
