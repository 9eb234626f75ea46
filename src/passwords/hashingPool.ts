import os from 'node:os';
import { Worker } from 'node:worker_threads';

/** bcrypt, run off the event loop in worker threads. */
export interface HashingPool {
  hash(password: string, cost: number): Promise<string>;
  compare(password: string, hash: string): Promise<boolean>;
}

export interface HashingPoolOptions {
  /** Most hashes at once; default one per core (bcrypt is pure CPU work). */
  readonly size?: number;
  /** Nice value of the hashing threads (Linux only), default 10. */
  readonly nice?: number;
}

type Job =
  | { readonly op: 'hash'; readonly password: string; readonly cost: number }
  | { readonly op: 'compare'; readonly password: string; readonly hash: string };

type Reply = { readonly value: string | boolean } | { readonly error: string };

interface Pending {
  readonly job: Job;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

interface PoolWorker {
  readonly worker: Worker;
  /** Sent to the worker and not yet answered, oldest first (a worker answers in order). */
  readonly jobs: Pending[];
}

// Hashing threads yield the CPU to request handling: with every core busy hashing, a read still
// gets a core as soon as it arrives, while hashes use all the CPU that requests leave idle.
const DEFAULT_NICE = 10;

// Each worker holds its next job while it hashes, so it never waits for the event loop to hand
// it one between hashes.
const JOBS_PER_WORKER = 2;

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
  const queue: Pending[] = [];

  function settle(entry: PoolWorker, reply: Reply): void {
    const pending = entry.jobs.shift();
    if (entry.jobs.length === 0) entry.worker.unref();
    if (pending && 'error' in reply) pending.reject(new Error(reply.error));
    else if (pending && 'value' in reply) pending.resolve(reply.value);
    dispatch();
  }

  function retire(entry: PoolWorker, error: Error): void {
    workers.delete(entry);
    for (const pending of entry.jobs.splice(0)) pending.reject(error);
    dispatch();
  }

  function spawn(): PoolWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath, nice } });
    const entry: PoolWorker = { worker, jobs: [] };
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
    while (queue.length > 0) {
      const entry = pickWorker();
      if (!entry) return;
      const pending = queue.shift() as Pending;
      // Referenced while busy: a pending hash keeps the process alive like any other I/O.
      if (entry.jobs.length === 0) entry.worker.ref();
      entry.jobs.push(pending);
      entry.worker.postMessage(pending.job);
    }
  }

  function run<T extends string | boolean>(job: Job): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ job, resolve: (value) => resolve(value as T), reject });
      dispatch();
    });
  }

  return {
    hash: (password, cost) => run<string>({ op: 'hash', password, cost }),
    compare: (password, hash) => run<boolean>({ op: 'compare', password, hash }),
  };
}

let shared: HashingPool | undefined;

/** The process-wide pool every password hasher uses (workers are per process, not per server). */
export function sharedHashingPool(): HashingPool {
  shared ??= createHashingPool();
  return shared;
}
