import type { LoadResult } from './loadTest';
import type { Measured } from './report';
import type { ServerProcess } from './serverProcess';

/** How long each part of a run takes. */
export interface BenchProfile {
  readonly warmupSeconds: number;
  /** Read rounds: every server once per round, in rotating order. */
  readonly rounds: number;
  readonly readSeconds: number;
  readonly readConnections: number;
  /** Each bcrypt timing window (at least three hashes whatever this says). */
  readonly hashSeconds: number;
  /** Login windows, each between two bcrypt timing windows. */
  readonly loginWindows: number;
  readonly loginSeconds: number;
  readonly pacedPerSecond: number;
  readonly pacedSeconds: number;
  /** Idle and loaded paced-read windows, alternating. */
  readonly pacedWindows: number;
  readonly refreshSeconds: number;
  /** The whole run is stopped (and fails) past this. */
  readonly deadlineSeconds: number;
}

/** The measuring run: about two minutes of load plus start-up. */
export const FULL: BenchProfile = {
  warmupSeconds: 3,
  rounds: 4,
  readSeconds: 4,
  readConnections: 10,
  hashSeconds: 1.5,
  loginWindows: 2,
  loginSeconds: 5,
  pacedPerSecond: 100,
  pacedSeconds: 5,
  pacedWindows: 2,
  refreshSeconds: 6,
  deadlineSeconds: 240,
};

/** Every scenario for about a second: proves the benchmark still works, measures nothing. */
export const SMOKE: BenchProfile = {
  warmupSeconds: 0,
  rounds: 1,
  readSeconds: 1,
  readConnections: 4,
  hashSeconds: 0,
  loginWindows: 1,
  loginSeconds: 1,
  pacedPerSecond: 20,
  pacedSeconds: 1,
  pacedWindows: 1,
  refreshSeconds: 1,
  deadlineSeconds: 120,
};

/** What every scenario gets: the running API, a signed-in user and the run's bookkeeping. */
export interface BenchContext {
  readonly profile: BenchProfile;
  readonly bcryptCost: number;
  readonly cores: number;
  readonly api: ServerProcess;
  readonly graphqlUrl: string;
  readonly credentials: { readonly email: string; readonly password: string };
  /** A valid access token of the bench user. */
  readonly token: string;
  /** The JSON body of a read request, and the exact body every server must answer it with. */
  readonly read: { readonly body: string; readonly expectBody: string };
  /** Runs `load` against `server`, charging the CPU its process and the database spent to it. */
  measure(server: ServerProcess, load: () => Promise<LoadResult>): Promise<Measured>;
  /** Records failed requests (a broken benchmark, whatever the numbers). */
  fail(count: number, what: string): void;
  log(message: string): void;
}

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Several runs of one load as one: medians of rates, latencies and CPU per request, totals of
 * requests and failures, the last memory reading.
 */
export function combineRuns(runs: readonly Measured[]): Measured {
  const of = (pick: (run: Measured) => number): number[] => runs.map(pick);
  const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
  return {
    result: {
      completed: sum(of((run) => run.result.completed)),
      perSecond: median(of((run) => run.result.perSecond)),
      p50: median(of((run) => run.result.p50)),
      p99: median(of((run) => run.result.p99)),
      max: Math.max(...of((run) => run.result.max)),
      errors: sum(of((run) => run.result.errors)),
      non2xx: sum(of((run) => run.result.non2xx)),
      mismatches: sum(of((run) => run.result.mismatches)),
      seconds: sum(of((run) => run.result.seconds)),
    },
    rssBytes: runs.at(-1)?.rssBytes ?? NaN,
    serverCpuMs: median(of((run) => run.serverCpuMs)),
    dbCpuMs: median(of((run) => run.dbCpuMs)),
  };
}
