import { createHistogram } from 'node:perf_hooks';
import { measureBcryptHashTime } from './bcryptHashTime';
import type { BenchContext } from './benchContext';
import { failures, runLoad, type LoadOptions } from './loadTest';
import { combineRuns, median, type Measured } from './measured';
import { runPacedReads, summarisePacedReads, type PacedReadResult } from './pacedReads';
import type { ProbeStats } from './probe';

type EventLoopDelay = ProbeStats['eventLoopDelay'];

export interface LoginResults {
  readonly logins: Measured;
  readonly loginConnections: number;
  readonly threadpoolSize: number;
  readonly bcrypt: {
    /** Median time of one comparison, one at a time at normal priority. */
    readonly hashMs: number;
    /** CPU time of one comparison. */
    readonly hashCpuMs: number;
    readonly samples: number;
    /** Whether the API hashes on its own low-priority workers (else on libuv's pool). */
    readonly onWorkers: boolean;
    readonly hashingThreads: number;
    /** min(cores, hashing threads): how many hashes can run at once. */
    readonly parallelism: number;
    /** parallelism × 1 / hashMs. */
    readonly ceilingPerSecond: number;
    /** Per login window, logins/s ÷ the ceiling from the hash times either side of it. */
    readonly windowRatios: readonly number[];
    /**
     * bcrypt CPU ÷ all CPU the API and the database spent per login: the share of a login that is
     * bcrypt, which is what logins/s ÷ ceiling comes to on a machine doing nothing else.
     */
    readonly cpuShare: number;
  };
  readonly underLoad: {
    readonly idle: PacedReadResult;
    readonly loaded: PacedReadResult;
    readonly eventLoopIdle: EventLoopDelay;
    readonly eventLoopLoaded: EventLoopDelay;
    readonly loginsPerSecond: number;
    readonly rssBytes: number;
  };
}

/** The worst of several windows, so a quiet window cannot hide a bad one. */
function worst(windows: readonly EventLoopDelay[]): EventLoopDelay {
  return {
    p50: Math.max(...windows.map((delay) => delay.p50)),
    p99: Math.max(...windows.map((delay) => delay.p99)),
    max: Math.max(...windows.map((delay) => delay.max)),
  };
}

/**
 * Scenario 4: logins/s against the bcrypt ceiling, cores × 1 / hash time, with the hash time taken
 * one hash at a time at normal priority just before and just after each login window. Because a
 * shared machine moves wall-clock times around, the share of each login's CPU time that is bcrypt
 * is reported too. Scenario 5: a light, steady read stream, in alternating windows alone and
 * while logins keep every hashing thread busy, with the API's event-loop delay in each.
 */
export async function runLoginScenarios(context: BenchContext): Promise<LoginResults> {
  const { api, profile, bcryptCost } = context;
  // Registering the bench user hashed once, which started a hashing worker if the API has them;
  // the logins below start the rest.
  const { threadpoolSize, lowPriorityThreads: workersSoFar } = await api.stats();
  const onWorkers = workersSoFar > 0;
  // Twice as many logins in flight as hashes can run, so a hash always waits when one finishes.
  const loginConnections = Math.max(context.cores, threadpoolSize) * 2;
  const loginLoad = (seconds: number, amount?: number): LoadOptions => ({
    url: context.graphqlUrl,
    connections: loginConnections,
    durationSeconds: seconds,
    amount,
    body: JSON.stringify({
      query: 'mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }',
      variables: { input: context.credentials },
    }),
    verifyBody: (body) => body.startsWith('{"data":{"login":{"accessToken":"'),
  });

  context.log(`timing bcrypt at cost ${bcryptCost}`);
  await api.settle();
  const hashTimes = [await measureBcryptHashTime(bcryptCost, profile.hashSeconds)];
  const loginRuns: Measured[] = [];
  for (let window = 0; window < profile.loginWindows; window += 1) {
    // A fixed number of logins, about loginSeconds' worth, all answered: the CPU the window used
    // is then all theirs, with none spent on logins cut off at the end.
    const expected = (context.cores * 1000) / (hashTimes.at(-1)?.medianMs ?? 1000);
    const amount = Math.max(loginConnections * 2, Math.round(expected * profile.loginSeconds));
    const run = await context.measure(api, () => runLoad(loginLoad(profile.loginSeconds, amount)));
    context.fail(failures(run.result), 'login');
    loginRuns.push(run);
    hashTimes.push(await measureBcryptHashTime(bcryptCost, profile.hashSeconds));
  }
  const { lowPriorityThreads } = await api.stats();
  const hashingThreads = onWorkers ? lowPriorityThreads : threadpoolSize;
  const parallelism = Math.min(context.cores, hashingThreads);
  const windowRatios = loginRuns.map((run, i) => {
    const around = ((hashTimes[i]?.medianMs ?? NaN) + (hashTimes[i + 1]?.medianMs ?? NaN)) / 2;
    return run.result.perSecond / ((parallelism * 1000) / around);
  });
  const hashMs = median(hashTimes.map((timing) => timing.medianMs));
  const hashCpuMs = median(hashTimes.map((timing) => timing.cpuMs));
  const logins = combineRuns(loginRuns);
  const cpuShare = hashCpuMs / (logins.serverCpuMs + logins.dbCpuMs);
  context.log(
    `logins: ${logins.result.perSecond.toFixed(1)}/s; bcrypt ${hashMs.toFixed(1)} ms per hash × ${parallelism} → ratios ${windowRatios.map((ratio) => ratio.toFixed(2)).join(', ')}; bcrypt is ${(cpuShare * 100).toFixed(0)}% of a login's CPU`,
  );

  const latencies = { idle: createHistogram(), loaded: createHistogram() };
  const counts = { idle: { completed: 0, failed: 0 }, loaded: { completed: 0, failed: 0 } };
  const delays = { idle: [] as EventLoopDelay[], loaded: [] as EventLoopDelay[] };
  const alongside = { completed: 0, seconds: 0 };
  const pacedWindow = async (state: 'idle' | 'loaded'): Promise<void> => {
    await api.resetStats();
    const result = await runPacedReads({
      url: context.graphqlUrl,
      body: context.read.body,
      headers: { authorization: `Bearer ${context.token}` },
      expectBody: context.read.expectBody,
      perSecond: profile.pacedPerSecond,
      durationSeconds: profile.pacedSeconds,
      latencies: latencies[state],
    });
    delays[state].push((await api.stats()).eventLoopDelay);
    counts[state].completed += result.completed;
    counts[state].failed += result.failures;
  };
  for (let window = 0; window < profile.pacedWindows; window += 1) {
    await pacedWindow('idle');
    // The logins start first and stop last, so the whole read window sees saturated hashing.
    const logins = runLoad(loginLoad(profile.pacedSeconds + 2));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await pacedWindow('loaded');
    const result = await logins;
    await api.settle();
    context.fail(failures(result), 'login alongside reads');
    alongside.completed += result.completed;
    alongside.seconds += result.seconds;
    api.assertAlive();
  }
  const idle = summarisePacedReads(latencies.idle, counts.idle.completed, counts.idle.failed);
  const loaded = summarisePacedReads(
    latencies.loaded,
    counts.loaded.completed,
    counts.loaded.failed,
  );
  context.fail(idle.failures + loaded.failures, 'paced read');
  const eventLoopIdle = worst(delays.idle);
  const eventLoopLoaded = worst(delays.loaded);
  context.log(
    `paced reads p99: idle ${idle.p99.toFixed(2)} ms, logins saturating bcrypt ${loaded.p99.toFixed(2)} ms; event-loop delay p99 ${eventLoopIdle.p99.toFixed(2)} → ${eventLoopLoaded.p99.toFixed(2)} ms`,
  );

  return {
    logins,
    loginConnections,
    threadpoolSize,
    bcrypt: {
      hashMs,
      hashCpuMs,
      samples: hashTimes.reduce((total, timing) => total + timing.samples, 0),
      onWorkers,
      hashingThreads,
      parallelism,
      ceilingPerSecond: (parallelism * 1000) / hashMs,
      windowRatios,
      cpuShare,
    },
    underLoad: {
      idle,
      loaded,
      eventLoopIdle,
      eventLoopLoaded,
      loginsPerSecond: alongside.completed / Math.max(1, alongside.seconds),
      rssBytes: (await api.stats()).rssBytes,
    },
  };
}
