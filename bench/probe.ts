import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Preloaded (`node --require`) into every server the benchmark starts, so measurements come from
 * inside the server process without any endpoint in the server itself: the benchmark asks over the
 * IPC channel of the child process.
 */

/** How often the event-loop delay is sampled, in milliseconds. */
export const EVENT_LOOP_RESOLUTION_MS = 10;

/** What a server process reports about itself. */
export interface ProbeStats {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** User + system CPU time of the process since it started, in microseconds. */
  readonly cpuMicros: number;
  /** Event-loop delay beyond the sampling interval since the last reset, in milliseconds. */
  readonly eventLoopDelay: { readonly p50: number; readonly p99: number; readonly max: number };
  /** UV_THREADPOOL_SIZE as the process sees it; libuv's default is 4. */
  readonly threadpoolSize: number;
  /**
   * Threads running at a lower priority than the main thread: the API's bcrypt workers (Linux
   * only; 0 elsewhere).
   */
  readonly lowPriorityThreads: number;
}

function countLowPriorityThreads(): number {
  if (process.platform !== 'linux') return 0;
  const niceOf = (tid: string): number => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // The 19th field, counted after the parenthesised thread name.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    } catch {
      return 0;
    }
  };
  const main = niceOf(String(process.pid));
  return readdirSync('/proc/self/task').filter((tid) => niceOf(tid) > main).length;
}

export interface ProbeRequest {
  readonly probe: number;
  /** `collect`: a full garbage collection first, when the process runs with --expose-gc. */
  readonly command: 'reset' | 'stats' | 'collect';
}

export interface ProbeReply {
  readonly probe: number;
  readonly stats: ProbeStats;
}

function isProbeRequest(message: unknown): message is ProbeRequest {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as ProbeRequest).probe === 'number' &&
    ['reset', 'stats', 'collect'].includes((message as ProbeRequest).command)
  );
}

function installProbe(): void {
  const send = process.send?.bind(process);
  if (!send) return;
  const histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  histogram.enable();
  // The histogram includes the sampling interval itself; only the lateness is of interest.
  const lateness = (nanoseconds: number): number =>
    Math.max(0, nanoseconds / 1e6 - EVENT_LOOP_RESOLUTION_MS);
  const threadpoolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4;

  process.on('message', (message: unknown) => {
    if (!isProbeRequest(message)) return;
    // Memory per connection means live objects, not garbage that happens to be uncollected.
    if (message.command === 'collect') (globalThis as { gc?: () => void }).gc?.();
    const cpu = process.cpuUsage();
    const stats: ProbeStats = {
      rssBytes: process.memoryUsage.rss(),
      cpuMicros: cpu.user + cpu.system,
      heapUsedBytes: process.memoryUsage().heapUsed,
      eventLoopDelay: {
        p50: lateness(histogram.percentile(50)),
        p99: lateness(histogram.percentile(99)),
        max: lateness(histogram.max),
      },
      threadpoolSize,
      lowPriorityThreads: countLowPriorityThreads(),
    };
    if (message.command === 'reset') histogram.reset();
    const reply: ProbeReply = { probe: message.probe, stats };
    send(reply);
  });
  // The channel must not keep a server alive that is otherwise shutting down.
  process.channel?.unref();
}

installProbe();
