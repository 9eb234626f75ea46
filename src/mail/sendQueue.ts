import type { EventLogger } from '../logging/logger';
import type { MailMessage } from './message';
import type { MailTransport } from './transport';

/**
 * One message to send. `compose` runs once, in the order jobs were queued, and may decide there is
 * nothing to send (null), for example because no account has the address; only delivery is
 * retried.
 */
export interface MailJob {
  /** What the message is, for log lines (`password-reset`, `email-verification`). */
  readonly kind: string;
  /** The request that asked for the message, named in the queue's log lines about it. */
  readonly reqId?: string;
  compose(): Promise<MailMessage | null>;
}

/** Mail sent in the background, so no answer ever waits for a mail server (docs/recovery.md). */
export interface MailQueue {
  /** Queues a job and returns at once. */
  enqueue(job: MailJob): void;
  /** Resolves once every queued job has been composed and delivered, or has failed for good. */
  idle(): Promise<void>;
  /** Stops retrying, waits briefly for deliveries in flight and closes the transport. */
  close(): Promise<void>;
}

export interface MailQueueOptions {
  readonly transport: MailTransport;
  readonly logger: EventLogger;
  /** Waits before the second, third… attempt; their count is the number of retries. */
  readonly retryDelaysMs?: readonly number[];
  /** Jobs waiting or in flight beyond which new ones are dropped (and logged). Default 1000. */
  readonly maxPending?: number;
  /** How long `close` waits for deliveries in flight. Default 5 s. */
  readonly closeTimeoutMs?: number;
}

/** 5 s, 30 s, 2 min, 10 min: rides out a mail server restart without hammering it. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000];

function describeError(error: unknown): { error: string; code?: unknown } {
  // The message of an SMTP error names the server's reply, never our message body; the body (and
  // so the token) is never logged.
  if (error instanceof Error) {
    return { error: error.message, code: (error as { code?: unknown }).code };
  }
  return { error: String(error) };
}

/**
 * An in-process queue: jobs are composed one at a time in order (so a newer reset request always
 * issues the newer token), then delivered with retries. Jobs live in memory; a crash loses the
 * ones not yet delivered, and the user asks again.
 */
export function createMailQueue(options: MailQueueOptions): MailQueue {
  const { transport, logger } = options;
  const retryDelays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const maxPending = options.maxPending ?? 1000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5000;

  let composing: Promise<void> = Promise.resolve();
  let pending = 0;
  let closed = false;
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let idleWaiters: Array<() => void> = [];

  function settle(): void {
    pending -= 1;
    if (pending > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  function track(promise: Promise<void>): void {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
  }

  function deliver(message: MailMessage, kind: string, reqId: string | undefined, attempt: number) {
    track(
      transport.send(message).then(
        () => {
          if (attempt > 1) logger.info({ reqId, kind, attempt }, 'mail delivered after retrying');
          settle();
        },
        (error: unknown) => {
          const delay = retryDelays[attempt - 1];
          const final = delay === undefined || closed;
          logger.warn(
            { reqId, kind, attempt, final, ...describeError(error) },
            final ? 'mail delivery failed; giving up' : 'mail delivery failed; will retry',
          );
          if (final) {
            settle();
            return;
          }
          const timer = setTimeout(() => {
            timers.delete(timer);
            deliver(message, kind, reqId, attempt + 1);
          }, delay);
          // A retry waiting must never keep the process (or a test run) alive.
          timer.unref();
          timers.add(timer);
        },
      ),
    );
  }

  return {
    enqueue(job) {
      const { reqId } = job;
      if (closed || pending >= maxPending) {
        logger.warn({ reqId, kind: job.kind, pending }, 'mail dropped: the send queue is full');
        return;
      }
      pending += 1;
      composing = composing.then(async () => {
        let message: MailMessage | null;
        try {
          message = await job.compose();
        } catch (error) {
          logger.warn({ reqId, kind: job.kind, ...describeError(error) }, 'mail not composed');
          settle();
          return;
        }
        if (message === null) settle();
        else deliver(message, job.kind, reqId, 1);
      });
    },

    idle() {
      if (pending === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },

    async close() {
      closed = true;
      if (timers.size > 0) {
        logger.warn({ dropped: timers.size }, 'mail dropped at shutdown while waiting to retry');
      }
      for (const timer of timers) {
        clearTimeout(timer);
        settle();
      }
      timers.clear();
      let deadline: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, closeTimeoutMs);
        deadline.unref();
      });
      await Promise.race([composing.then(() => Promise.allSettled([...inFlight])), timeout]);
      clearTimeout(deadline);
      transport.close();
    },
  };
}
