import { createHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';

/** One closed-loop load run: `connections` clients, each sending its next request on a reply. */
export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Send exactly this many requests and wait for every answer, instead of a fixed duration. */
  readonly amount?: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Every response must be exactly this body. */
  readonly expectBody?: string;
  /** Every response must pass this check (wins over `expectBody`). */
  readonly verifyBody?: (body: string) => boolean;
  /** Per-request hooks, for flows that feed one response into the next request. */
  readonly requests?: autocannon.Request[];
}

/** What one run measured. Latencies are in milliseconds, with microsecond resolution. */
export interface LoadResult {
  readonly completed: number;
  /**
   * Completions per second between the first and the last response, so the time it takes to fill
   * the pipeline at the start (one whole login, at high bcrypt costs) does not count as idle.
   */
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly non2xx: number;
  /** Responses with the wrong body (GraphQL errors arrive with HTTP 200). */
  readonly mismatches: number;
  readonly seconds: number;
}

/** Count of everything that went wrong in a run. */
export function failures(result: LoadResult): number {
  return result.errors + result.non2xx + result.mismatches;
}

/**
 * Runs autocannon against one URL. Latencies are recorded from autocannon's own per-response
 * timings into a microsecond histogram (autocannon's summary rounds to whole milliseconds).
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies = createHistogram();
  let firstResponseAt = 0;
  let lastResponseAt = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: 'POST',
        connections: options.connections,
        duration: options.durationSeconds,
        headers: { 'content-type': 'application/json', ...options.headers },
        timeout: 10,
        // Unset options must be left out, not passed as undefined: autocannon checks their presence.
        ...(options.amount === undefined ? {} : { amount: options.amount }),
        ...(options.body === undefined ? {} : { body: options.body }),
        ...(options.requests ? { requests: options.requests } : {}),
        ...(options.verifyBody
          ? {
              // autocannon hands over the body as a string (its types also allow Buffer).
              verifyBody: (body: string | Buffer | undefined) =>
                options.verifyBody?.(String(body)) === true,
            }
          : options.expectBody === undefined
            ? {}
            : { expectBody: options.expectBody }),
      },
      (error: Error | null, result: autocannon.Result) => {
        if (error) return reject(error);
        const ms = (microseconds: number): number => microseconds / 1000;
        const completed = result.requests.total;
        const span = (lastResponseAt - firstResponseAt) / 1000;
        resolve({
          completed,
          perSecond:
            completed >= 2 && span > 0 ? (completed - 1) / span : completed / result.duration,
          p50: latencies.count > 0 ? ms(latencies.percentile(50)) : NaN,
          p99: latencies.count > 0 ? ms(latencies.percentile(99)) : NaN,
          max: latencies.count > 0 ? ms(latencies.max) : NaN,
          errors: result.errors,
          non2xx: result.non2xx,
          mismatches: result.mismatches,
          seconds: result.duration,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTimeMs: number) => {
      lastResponseAt = performance.now();
      if (firstResponseAt === 0) firstResponseAt = lastResponseAt;
      latencies.record(Math.max(1, Math.round(responseTimeMs * 1000)));
    });
  });
}
