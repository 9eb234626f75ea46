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
  current?: Pending;
}

// Hashing threads yield the CPU to request handling: with every core busy hashing, a read still
// gets a core as soon as it arrives, while hashes use all the CPU that requests leave idle.
const DEFAULT_NICE = 10;

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
 * start on first use, one job each at a time, and never keep the process alive while idle.
 */
export function createHashingPool(options: HashingPoolOptions = {}): HashingPool {
  const size = Math.max(1, options.size ?? os.availableParallelism());
  // Elsewhere a nice value applies to the whole process, event loop included.
  const nice = process.platform === 'linux' ? (options.nice ?? DEFAULT_NICE) : 0;
  const bcryptPath = require.resolve('bcrypt');
  const workers = new Set<PoolWorker>();
  const idle: PoolWorker[] = [];
  const queue: Pending[] = [];

  function settle(entry: PoolWorker, reply: Reply): void {
    const pending = entry.current;
    entry.current = undefined;
    entry.worker.unref();
    idle.push(entry);
    if (pending && 'error' in reply) pending.reject(new Error(reply.error));
    else if (pending && 'value' in reply) pending.resolve(reply.value);
    dispatch();
  }

  function retire(entry: PoolWorker, error: Error): void {
    workers.delete(entry);
    const at = idle.indexOf(entry);
    if (at >= 0) idle.splice(at, 1);
    entry.current?.reject(error);
    entry.current = undefined;
    dispatch();
  }

  function spawn(): PoolWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath, nice } });
    const entry: PoolWorker = { worker };
    worker.on('message', (reply: Reply) => settle(entry, reply));
    worker.on('error', (error) => retire(entry, error));
    worker.on('exit', (code) => retire(entry, new Error(`hashing worker exited with ${code}`)));
    worker.unref();
    workers.add(entry);
    return entry;
  }

  function dispatch(): void {
    while (queue.length > 0) {
      const entry = idle.pop() ?? (workers.size < size ? spawn() : undefined);
      if (!entry) return;
      const pending = queue.shift() as Pending;
      entry.current = pending;
      // Referenced while busy: a pending hash keeps the process alive like any other I/O.
      entry.worker.ref();
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
