import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ProbeReply, ProbeStats } from './probe';

/** A server the benchmark started in a child process, with the probe preloaded. */
export interface ServerProcess {
  readonly name: string;
  /** Base URL, for example http://127.0.0.1:41234. */
  readonly url: string;
  readonly pid: number;
  /** Reads the probe's numbers and starts a new event-loop delay window. */
  resetStats(): Promise<ProbeStats>;
  /** Reads the probe's numbers for the window since the last reset. */
  stats(): Promise<ProbeStats>;
  /** Like {@link stats}, after a full garbage collection (the process needs --expose-gc). */
  collectedStats(): Promise<ProbeStats>;
  /** Throws if the process has died (a crash under load is a broken benchmark). */
  assertAlive(): void;
  /**
   * Resolves once the process has used less than 5% of a core for a quarter of a second (or after
   * `timeoutMs`): when a load generator stops, the server still works off what it had accepted.
   */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  readonly name: string;
  /** The script to run, relative to the repository root. */
  readonly entry: string;
  readonly args?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly port: number;
  /** Extra `node` flags, such as `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  readonly startTimeoutMs?: number;
}

const PROBE = path.join(__dirname, 'probe.js');
const REPO_ROOT = path.resolve(__dirname, '../..');
const running = new Set<ChildProcess>();

// Whatever ends the benchmark, no server outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Resolves once `${url}/health` answers 200 or the child has exited (the caller tells which);
 * throws after `timeoutMs`.
 */
export async function waitForHealth(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const healthy = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url}/health did not answer within ${timeoutMs} ms`);
}

/**
 * Starts `node --require probe.js <entry>` and resolves once its `/health` answers. The child's
 * output is kept (the last few kilobytes) for error messages, never printed while measuring.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), '--require', PROBE, options.entry, ...(options.args ?? [])],
    {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));

  let nextProbe = 1;
  const pending = new Map<number, (stats: ProbeStats) => void>();
  child.on('message', (message: ProbeReply) => {
    pending.get(message.probe)?.(message.stats);
    pending.delete(message.probe);
  });
  const ask = (command: 'reset' | 'stats' | 'collect'): Promise<ProbeStats> =>
    new Promise((resolve, reject) => {
      const probe = nextProbe++;
      const timer = setTimeout(() => {
        pending.delete(probe);
        reject(new Error(`${options.name}: the probe did not answer`));
      }, 5000);
      pending.set(probe, (stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      child.send({ probe, command });
    });

  const url = `http://127.0.0.1:${options.port}`;
  const died = (): Error =>
    new Error(
      `${options.name} exited (code ${child.exitCode}, signal ${child.signalCode}):\n${output}`,
    );
  await waitForHealth(url, child, options.startTimeoutMs ?? 30_000);
  if (child.exitCode !== null || child.signalCode !== null) throw died();

  return {
    name: options.name,
    url,
    pid: child.pid ?? 0,
    resetStats: () => ask('reset'),
    stats: () => ask('stats'),
    collectedStats: () => ask('collect'),
    assertAlive() {
      if (child.exitCode !== null || child.signalCode !== null) throw died();
    },
    async settle(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let before = await ask('stats');
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const after = await ask('stats');
        if (after.cpuMicros - before.cpuMicros < 0.05 * 250_000) return;
        before = after;
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
