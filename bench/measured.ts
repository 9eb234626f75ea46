import type { LoadResult } from './loadTest';

/** One load run, the server's memory right after it, and the CPU time it cost per request. */
export interface Measured {
  readonly result: LoadResult;
  readonly rssBytes: number;
  /** CPU milliseconds the server process spent per completed request. */
  readonly serverCpuMs: number;
  /** CPU milliseconds the database process spent per completed request. */
  readonly dbCpuMs: number;
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
