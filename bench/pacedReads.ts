import http from 'node:http';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface PacedReadOptions {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly expectBody: string;
  readonly perSecond: number;
  readonly durationSeconds: number;
  /** Where latencies are recorded, in microseconds (a new histogram by default). */
  readonly latencies?: RecordableHistogram;
}

export interface PacedReadResult {
  readonly completed: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Failed requests and wrong bodies. */
  readonly failures: number;
}

/**
 * Open-loop reads: one request every 1/`perSecond` seconds whether or not earlier ones have
 * answered, so a slow server cannot slow the arrivals down and hide its own latency (coordinated
 * omission). Meant for a light, steady stream whose latency is the measurement; throughput is
 * measured with autocannon.
 */
export async function runPacedReads(options: PacedReadOptions): Promise<PacedReadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const latencies = options.latencies ?? createHistogram();
  const target = new URL(options.url);
  let completed = 0;
  let failures = 0;

  const readOnce = (): Promise<void> =>
    new Promise((resolve) => {
      const started = process.hrtime.bigint();
      const request = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', ...options.headers },
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => {
            const micros = Number((process.hrtime.bigint() - started) / 1000n);
            latencies.record(Math.max(1, micros));
            completed += 1;
            if (response.statusCode !== 200 || body !== options.expectBody) failures += 1;
            resolve();
          });
        },
      );
      request.setTimeout(10_000, () => request.destroy(new Error('timed out')));
      request.on('error', () => {
        failures += 1;
        resolve();
      });
      request.end(options.body);
    });

  const intervalMs = 1000 / options.perSecond;
  const total = Math.max(1, Math.round(options.perSecond * options.durationSeconds));
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let sent = 0; sent < total; sent += 1) {
    // Scheduled against the start time, so timer drift does not lower the rate.
    const due = start + sent * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(readOnce());
  }
  await Promise.all(inFlight);
  agent.destroy();
  return summarisePacedReads(latencies, completed, failures);
}

/** Percentiles of a microsecond histogram, in milliseconds. */
export function summarisePacedReads(
  latencies: RecordableHistogram,
  completed: number,
  failures: number,
): PacedReadResult {
  const ms = (microseconds: number): number => microseconds / 1000;
  return {
    completed,
    p50: latencies.count > 0 ? ms(latencies.percentile(50)) : NaN,
    p99: latencies.count > 0 ? ms(latencies.percentile(99)) : NaN,
    max: latencies.count > 0 ? ms(latencies.max) : NaN,
    failures,
  };
}
