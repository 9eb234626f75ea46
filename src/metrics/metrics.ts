import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HashingPool } from '../passwords/hashingPool';

/** The public auth mutations whose outcomes are counted. */
export type AuthOperation = 'login' | 'register' | 'refresh';

/**
 * One server's Prometheus metrics (docs/operations.md, "Metrics"). Each server has a registry of
 * its own, never prom-client's global one, so several servers in one process (tests, the
 * benchmark's variants) neither collide on names nor count each other's requests.
 */
export interface ApiMetrics {
  readonly registry: Registry;
  /** One `login`, `register` or `refreshToken` call ended with `outcome`. */
  authOutcome(operation: AuthOperation, outcome: string): void;
  /** A throttle bucket of kind `throttle` (`ip`, `login`, `register`, …) refused a call. */
  throttleRefused(throttle: string): void;
  /** One HTTP request was answered. */
  requestCompleted(method: string, route: string, statusCode: number, seconds: number): void;
  /** Stops observing the hashing pool. */
  close(): void;
}

const OUTCOME_METRICS: Readonly<Record<AuthOperation, { name: string; help: string }>> = {
  login: { name: 'auth_login_attempts_total', help: 'login calls by outcome' },
  register: { name: 'auth_registrations_total', help: 'register calls by outcome' },
  refresh: {
    name: 'auth_refreshes_total',
    help: 'refreshToken calls by outcome (reuse_detected: a rotated token came back)',
  },
};

// Hashes take about a quarter of a second at cost 12; waits above ten seconds would be refused
// long before (docs/security.md, "Password hashing under load").
const WAIT_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricsOptions {
  /** The process's hashing pool, reported on as a whole. */
  readonly pool: HashingPool;
  /**
   * Also prom-client's process metrics (CPU, memory, event-loop delay, GC). Only for a server that
   * serves them: each collection starts monitors that live as long as the process.
   */
  readonly processMetrics?: boolean;
}

/** Builds the metrics of one server. */
export function createMetrics({ pool, processMetrics = false }: MetricsOptions): ApiMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (processMetrics) collectDefaultMetrics({ register: registry });

  const outcomes = Object.fromEntries(
    Object.entries(OUTCOME_METRICS).map(([operation, { name, help }]) => [
      operation,
      new Counter({ name, help, labelNames: ['outcome'], registers }),
    ]),
  ) as Record<AuthOperation, Counter<'outcome'>>;
  const throttleRefusals = new Counter({
    name: 'auth_throttle_refusals_total',
    help: 'calls refused with RATE_LIMITED by a throttle, by kind of bucket',
    labelNames: ['throttle'],
    registers,
  });
  const hashingRefusals = new Counter({
    name: 'password_hashing_refusals_total',
    help: 'hashes refused at once: client_share (one address has its share) or global_cap',
    labelNames: ['reason'],
    registers,
  });
  new Gauge({
    name: 'password_hashing_queue_depth',
    help: 'hashes waiting for a hashing thread (the whole process)',
    registers,
    collect() {
      this.set(pool.load().waiting);
    },
  });
  new Gauge({
    name: 'password_hashing_running',
    help: 'hashes handed to a hashing thread (the whole process)',
    registers,
    collect() {
      this.set(pool.load().running);
    },
  });
  const hashingWait = new Histogram({
    name: 'password_hashing_wait_seconds',
    help: 'time a hash waited in the queue before a thread took it',
    buckets: WAIT_BUCKETS,
    registers,
  });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'time to answer an HTTP request, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS,
    registers,
  });

  const stopObserving = pool.observe({
    started: (waitMs) => hashingWait.observe(waitMs / 1000),
    refused: (reason) => hashingRefusals.inc({ reason }),
  });

  return {
    registry,
    authOutcome: (operation, outcome) => outcomes[operation].inc({ outcome }),
    throttleRefused: (throttle) => throttleRefusals.inc({ throttle }),
    requestCompleted(method, route, statusCode, seconds) {
      latency.observe({ method, route, status_code: String(statusCode) }, seconds);
    },
    close: stopObserving,
  };
}
