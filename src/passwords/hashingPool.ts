import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { RateLimitedError } from '../errors';
import { clientAddressKey } from '../throttling/authThrottle';

/** bcrypt, run off the event loop in worker threads. */
export interface HashingPool {
  /**
   * `clientAddress` is the address of the request the hash is for, whose share of the pool it
   * takes (docs/security.md, "Password hashing under load"); work outside a request has none and
   * is not counted against any share.
   */
  hash(password: string, cost: number, clientAddress?: string | null): Promise<string>;
  compare(password: string, hash: string, clientAddress?: string | null): Promise<boolean>;
  /**
   * Runs `work`, a call that will hash (a login, a registration), as one of its client's share
   * from the start, so that a flood is refused before it costs any database work either: at most
   * `perClientLimit` such calls of one client address, and `globalLimit` in all, run at once;
   * the next is refused at once with RateLimitedError. Without an address it just runs `work`.
   */
  admit<T>(work: () => Promise<T>, clientAddress?: string | null): Promise<T>;
  /** Jobs waiting for a thread and jobs on one, right now (docs/operations.md, "Metrics"). */
  load(): HashingPoolLoad;
  /** Tells `observer` of every job started and every job refused until the returned call. */
  observe(observer: HashingPoolObserver): () => void;
}

export interface HashingPoolLoad {
  /** Queued, not yet handed to a thread. */
  readonly waiting: number;
  /** Handed to a thread (each thread holds at most two: one hashing, the next one). */
  readonly running: number;
}

/** Why the pool refused a job at once (docs/security.md, "Password hashing under load"). */
export type HashingRefusal = 'client_share' | 'global_cap';

export interface HashingPoolObserver {
  /** A job reached a thread after `waitMs` in the queue. */
  started?(waitMs: number): void;
  refused?(reason: HashingRefusal): void;
}

export interface HashingPoolOptions {
  /** Most hashes at once; default one per core (bcrypt is pure CPU work). */
  readonly size?: number;
  /** Nice value of the hashing threads (Linux only), default 10. */
  readonly nice?: number;
  /** Most jobs one client address may have queued or running at once; default 32. */
  readonly perClientLimit?: number;
  /** Most jobs of all request-serving clients at once; default 32 per thread. */
  readonly globalLimit?: number;
}

type Job =
  | { readonly op: 'hash'; readonly password: string; readonly cost: number }
  | { readonly op: 'compare'; readonly password: string; readonly hash: string };

type Reply = { readonly value: string | boolean } | { readonly error: string };

interface Pending {
  readonly job: Job;
  /** Whose request this hash serves ('' outside a request: start-up, the CLI, scripts). */
  readonly owner: string;
  /** When it was queued (Date.now()). */
  readonly queuedAt: number;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

interface PoolWorker {
  readonly worker: Worker;
  /** Sent to the worker and not yet answered, oldest first (a worker answers in order). */
  readonly jobs: Pending[];
  /** When the job at the head of `jobs` started. */
  headStartedAt: number;
}

// Hashing threads yield the CPU to request handling: with every core busy hashing, a read still
// gets a core as soon as it arrives, while hashes use all the CPU that requests leave idle. Not
// the lowest priority: at nice 19 closed-loop reads kept more of their rate during a login storm,
// but a hash then got about 1.5% of a core against any other busy process, and a sign-in during a
// hash flood took over the 2 s test/throttling/fairShedding.test.ts allows while other test files
// ran beside it (docs/performance.md, "The read path").
const DEFAULT_NICE = 10;

// A worker gets its next job only once it is free. Handing it one in advance would save the
// event loop's turn between hashes (well under a millisecond next to a quarter of a second), but
// a client arriving during a flood would then wait behind the flood's prepared jobs as well as
// the running ones (docs/security.md, "Password hashing under load").
const JOBS_PER_WORKER = 1;

const DEFAULT_PER_CLIENT_LIMIT = 32;
const DEFAULT_GLOBAL_LIMIT_PER_THREAD = 32;

/** The address a hash is charged to: the request's client, as every per-client limit counts it. */
export function hashingOwnerOf(address: string | null | undefined): string {
  return address ? clientAddressKey(address) : '';
}

// Plain JavaScript evaluated in the worker, so it runs the same from `dist/` and under ts-jest.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const os = require('node:os');
const bcrypt = require(workerData.bcryptPath);
// On Linux a thread's nice value is its own, so this lowers only this worker's priority.
if (workerData.nice) {
  try { os.setPriority(0, workerData.nice); } catch { /* keep the default priority */ }
}
parentPort.on('message', (job) => {
  try {
    const value = job.op === 'hash'
      ? bcrypt.hashSync(job.password, job.cost)
      : bcrypt.compareSync(job.password, job.hash);
    parentPort.postMessage({ value });
  } catch (error) {
    parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
`;

/**
 * A pool of worker threads running bcrypt at a lower CPU priority than the event loop. Workers
 * start on first use, and never keep the process alive while idle.
 */
export function createHashingPool(options: HashingPoolOptions = {}): HashingPool {
  const size = Math.max(1, options.size ?? os.availableParallelism());
  // Elsewhere a nice value applies to the whole process, event loop included.
  const nice = process.platform === 'linux' ? (options.nice ?? DEFAULT_NICE) : 0;
  const bcryptPath = require.resolve('bcrypt');
  const workers = new Set<PoolWorker>();
  const perClientLimit = Math.max(1, options.perClientLimit ?? DEFAULT_PER_CLIENT_LIMIT);
  const globalLimit = Math.max(1, options.globalLimit ?? DEFAULT_GLOBAL_LIMIT_PER_THREAD * size);
  // Waiting jobs per owner, served round-robin (docs/security.md, "Password hashing under load"):
  // an address that floods the pool waits behind its own jobs, never in front of everyone's.
  const waiting = new Map<string, Pending[]>();
  // Queued or running jobs per owner, and in all (request-serving owners only).
  const held = new Map<string, number>();
  let heldTotal = 0;
  // Recent milliseconds per job, to tell a refused client when to come back.
  let averageJobMs = 100;
  let waitingTotal = 0;
  let running = 0;
  // Jobs on a thread per owner, and when each owner was last served (a count of jobs handed
  // out), to pick whose job goes next; an owner with nothing held is forgotten.
  const runningBy = new Map<string, number>();
  const lastServed = new Map<string, number>();
  let served = 0;
  const observers = new Set<HashingPoolObserver>();

  function release(pending: Pending): void {
    if (!pending.owner) return;
    const count = (held.get(pending.owner) ?? 1) - 1;
    if (count === 0) {
      held.delete(pending.owner);
      lastServed.delete(pending.owner);
    } else held.set(pending.owner, count);
    heldTotal -= 1;
  }

  /**
   * The next job: of the waiting owners, the one with the fewest jobs on a thread, and of those
   * the one served longest ago (or never). A client arriving during a flood is therefore served
   * by the next thread to come free, ahead of the flooding address.
   */
  function nextWaiting(): Pending | undefined {
    let chosen: string | undefined;
    let fewest = Infinity;
    let longestAgo = Infinity;
    for (const owner of waiting.keys()) {
      const onThreads = runningBy.get(owner) ?? 0;
      const servedAt = lastServed.get(owner) ?? -1;
      if (onThreads < fewest || (onThreads === fewest && servedAt < longestAgo)) {
        chosen = owner;
        fewest = onThreads;
        longestAgo = servedAt;
      }
    }
    if (chosen === undefined) return undefined;
    const jobs = waiting.get(chosen)!;
    const pending = jobs.shift();
    if (jobs.length === 0) waiting.delete(chosen);
    if (pending) {
      waitingTotal -= 1;
      runningBy.set(chosen, (runningBy.get(chosen) ?? 0) + 1);
      served += 1;
      lastServed.set(chosen, served);
    }
    return pending;
  }

  /** A job left its thread (answered, or its worker died). */
  function leftThread(pending: Pending): void {
    running -= 1;
    const left = (runningBy.get(pending.owner) ?? 1) - 1;
    if (left === 0) runningBy.delete(pending.owner);
    else runningBy.set(pending.owner, left);
  }

  function settle(entry: PoolWorker, reply: Reply): void {
    const pending = entry.jobs.shift();
    if (pending) leftThread(pending);
    const now = Date.now();
    averageJobMs = 0.8 * averageJobMs + 0.2 * (now - entry.headStartedAt);
    entry.headStartedAt = now;
    if (pending) release(pending);
    if (entry.jobs.length === 0) entry.worker.unref();
    if (pending && 'error' in reply) pending.reject(new Error(reply.error));
    else if (pending && 'value' in reply) pending.resolve(reply.value);
    dispatch();
  }

  function retire(entry: PoolWorker, error: Error): void {
    workers.delete(entry);
    for (const pending of entry.jobs.splice(0)) {
      leftThread(pending);
      release(pending);
      pending.reject(error);
    }
    dispatch();
  }

  function spawn(): PoolWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath, nice } });
    const entry: PoolWorker = { worker, jobs: [], headStartedAt: 0 };
    worker.on('message', (reply: Reply) => settle(entry, reply));
    worker.on('error', (error) => retire(entry, error));
    worker.on('exit', (code) => retire(entry, new Error(`hashing worker exited with ${code}`)));
    worker.unref();
    workers.add(entry);
    return entry;
  }

  /** An idle worker, else a new one while there is room, else the least busy with room. */
  function pickWorker(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const entry of workers) {
      if (entry.jobs.length === 0) return entry;
      if (entry.jobs.length < JOBS_PER_WORKER && (!best || entry.jobs.length < best.jobs.length))
        best = entry;
    }
    return workers.size < size ? spawn() : best;
  }

  function dispatch(): void {
    while (waiting.size > 0) {
      const entry = pickWorker();
      if (!entry) return;
      const pending = nextWaiting();
      if (!pending) return;
      // Referenced while busy: a pending hash keeps the process alive like any other I/O.
      if (entry.jobs.length === 0) {
        entry.worker.ref();
        entry.headStartedAt = Date.now();
      }
      entry.jobs.push(pending);
      running += 1;
      const waitMs = Date.now() - pending.queuedAt;
      for (const observer of observers) observer.started?.(waitMs);
      entry.worker.postMessage(pending.job);
    }
  }

  /** Seconds until the queue ahead of a refused job has likely drained. */
  function retryAfterSeconds(ahead: number): number {
    return Math.max(1, Math.ceil((ahead * averageJobMs) / size / 1000));
  }

  function refuse(reason: HashingRefusal, ahead: number): Promise<never> {
    for (const observer of observers) observer.refused?.(reason);
    return Promise.reject(new RateLimitedError(retryAfterSeconds(ahead)));
  }

  // Calls admitted and not yet finished, per owner and in all.
  const admitted = new Map<string, number>();
  let admittedTotal = 0;

  async function admit<T>(work: () => Promise<T>, clientAddress?: string | null): Promise<T> {
    const owner = hashingOwnerOf(clientAddress);
    if (!owner) return work();
    const own = admitted.get(owner) ?? 0;
    if (own >= perClientLimit) return refuse('client_share', own);
    if (admittedTotal >= globalLimit) return refuse('global_cap', admittedTotal);
    admitted.set(owner, own + 1);
    admittedTotal += 1;
    try {
      return await work();
    } finally {
      const left = (admitted.get(owner) ?? 1) - 1;
      if (left === 0) admitted.delete(owner);
      else admitted.set(owner, left);
      admittedTotal -= 1;
    }
  }

  function run<T extends string | boolean>(job: Job, clientAddress?: string | null): Promise<T> {
    const owner = hashingOwnerOf(clientAddress);
    if (owner) {
      const own = held.get(owner) ?? 0;
      // Shed at once: waiting would only hold the connection and delay everyone else.
      if (own >= perClientLimit) return refuse('client_share', own);
      if (heldTotal >= globalLimit) return refuse('global_cap', heldTotal);
      held.set(owner, own + 1);
      heldTotal += 1;
    }
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        job,
        owner,
        queuedAt: Date.now(),
        resolve: (value) => resolve(value as T),
        reject,
      };
      waitingTotal += 1;
      const jobs = waiting.get(owner);
      if (jobs) jobs.push(pending);
      else waiting.set(owner, [pending]);
      dispatch();
    });
  }

  return {
    hash: (password, cost, clientAddress) =>
      run<string>({ op: 'hash', password, cost }, clientAddress),
    compare: (password, hash, clientAddress) =>
      run<boolean>({ op: 'compare', password, hash }, clientAddress),
    admit,
    load: () => ({ waiting: waitingTotal, running }),
    observe(observer) {
      observers.add(observer);
      return () => observers.delete(observer);
    },
  };
}

let shared: HashingPool | undefined;

/** The process-wide pool every password hasher uses (workers are per process, not per server). */
export function sharedHashingPool(): HashingPool {
  shared ??= createHashingPool();
  return shared;
}
