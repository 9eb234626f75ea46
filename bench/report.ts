import type { BcryptHashTime } from './bcryptHashTime';
import type { LoadResult } from './loadTest';
import type { PacedReadResult } from './pacedReads';
import type { ProbeStats } from './probe';

/** One load run, the server's memory right after it, and the CPU time it cost per request. */
export interface Measured {
  readonly result: LoadResult;
  readonly rssBytes: number;
  /** CPU milliseconds the server process spent per completed request. */
  readonly serverCpuMs: number;
  /** CPU milliseconds the database process spent per completed request. */
  readonly dbCpuMs: number;
}

/** Everything one benchmark run found, in the order of the scenarios. */
export interface BenchReport {
  readonly smoke: boolean;
  readonly startedAt: Date;
  readonly seconds: number;
  readonly machine: {
    readonly cores: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly platform: string;
    readonly dbEngine: string;
  };
  readonly settings: {
    readonly bcryptCost: number;
    readonly threadpoolSize: number;
    readonly threadpoolFromEnv: boolean;
    /** Threads bcrypt ran on during the logins. */
    readonly hashingThreads: number;
    /** Whether those were the API's own low-priority workers rather than libuv's pool. */
    readonly hashingThreadsLowPriority: boolean;
    readonly readConnections: number;
    readonly readSeconds: number;
    readonly rounds: number;
    readonly loginConnections: number;
    readonly loginSeconds: number;
    readonly pacedPerSecond: number;
    readonly pacedSeconds: number;
    readonly refreshConnections: number;
    readonly refreshSeconds: number;
  };
  readonly reads: {
    readonly guarded: Measured;
    readonly unguarded: Measured;
    readonly ceiling: Measured;
    readonly ceilingNoLookup: Measured;
  };
  readonly bcrypt: {
    /** On the kind of thread the API hashes on; the mean of before and after the logins. */
    readonly hashTime: BcryptHashTime;
    /** On libuv's pool at normal priority, for reference. */
    readonly normalPriority: BcryptHashTime;
    /** Whether the API hashes on its own low-priority workers. */
    readonly onWorkers: boolean;
    /** How many hashes can run at once: min(cores, hashing threads). */
    readonly parallelism: number;
    readonly ceilingPerSecond: number;
  };
  readonly logins: Measured;
  readonly underLoad: {
    readonly idle: PacedReadResult;
    readonly loaded: PacedReadResult;
    readonly eventLoopIdle: ProbeStats['eventLoopDelay'];
    readonly eventLoopLoaded: ProbeStats['eventLoopDelay'];
    readonly loginsPerSecond: number;
    readonly rssBytes: number;
  };
  readonly refresh: Measured;
}

/** A target on a ratio; `atLeast` false means the ratio must stay at or below `bound`. */
interface Target {
  readonly label: string;
  readonly ratio: number;
  readonly detail: string;
  readonly bound: number;
  readonly atLeast: boolean;
}

const integer = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—';
const decimal = (value: number, digits = 2): string =>
  Number.isFinite(value) ? value.toFixed(digits) : '—';
const megabytes = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))}`;

function loadRow(
  id: string,
  scenario: string,
  server: string,
  { result, rssBytes, serverCpuMs, dbCpuMs }: Measured,
  unit: string,
): string {
  const failed = result.errors + result.non2xx + result.mismatches;
  const throughput =
    result.perSecond >= 100 ? integer(result.perSecond) : decimal(result.perSecond, 1);
  return `| ${id} | ${scenario} | ${server} | ${throughput} ${unit} | ${decimal(result.p50)} | ${decimal(result.p99)} | ${decimal(serverCpuMs)} | ${decimal(dbCpuMs)} | ${megabytes(rssBytes)} | ${failed} |`;
}

function pacedRow(id: string, scenario: string, result: PacedReadResult, rssBytes: number): string {
  return `| ${id} | ${scenario} | API | ${integer(result.completed)} reads, paced | ${decimal(result.p50)} | ${decimal(result.p99)} | | | ${megabytes(rssBytes)} | ${result.failures} |`;
}

function targets(report: BenchReport): Target[] {
  const { reads, bcrypt, logins, underLoad } = report;
  const guarded = reads.guarded.result.perSecond;
  return [
    {
      label: 'Auth overhead: guarded ÷ unguarded req/s',
      ratio: guarded / reads.unguarded.result.perSecond,
      detail: `${integer(guarded)} ÷ ${integer(reads.unguarded.result.perSecond)}`,
      bound: 0.9,
      atLeast: true,
    },
    {
      label: 'Guarded read ÷ bare node:http ceiling (same JWT check and lookup)',
      ratio: guarded / reads.ceiling.result.perSecond,
      detail: `${integer(guarded)} ÷ ${integer(reads.ceiling.result.perSecond)}`,
      bound: 0.4,
      atLeast: true,
    },
    {
      label: `Logins/s ÷ bcrypt ceiling (${bcrypt.parallelism} × 1 / ${decimal(bcrypt.hashTime.medianMs, 1)} ms)`,
      ratio: logins.result.perSecond / bcrypt.ceilingPerSecond,
      detail: `${decimal(logins.result.perSecond, 1)} ÷ ${decimal(bcrypt.ceilingPerSecond, 1)}`,
      bound: 0.9,
      atLeast: true,
    },
    {
      label: 'Read p99 while logins saturate bcrypt ÷ read p99 idle',
      ratio: underLoad.loaded.p99 / underLoad.idle.p99,
      detail: `${decimal(underLoad.loaded.p99)} ms ÷ ${decimal(underLoad.idle.p99)} ms`,
      bound: 1.5,
      atLeast: false,
    },
  ];
}

function verdict(target: Target): string {
  if (!Number.isFinite(target.ratio)) return 'n/a';
  const met = target.atLeast ? target.ratio >= target.bound : target.ratio <= target.bound;
  return met ? 'met' : '**missed**';
}

/** Renders the run as markdown: settings, one row per measurement, then the targets. */
export function renderReport(report: BenchReport): string {
  const { machine, settings, reads } = report;
  const threadpool = settings.threadpoolFromEnv
    ? `${settings.threadpoolSize} (UV_THREADPOOL_SIZE)`
    : `${settings.threadpoolSize} (libuv default)`;
  const lines = [
    `Run of ${report.startedAt.toISOString()}${report.smoke ? ' (smoke run: durations too short to mean anything)' : ''}, ${Math.round(report.seconds)} s in all.`,
    '',
    `- Machine: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ${machine.platform}; database: embedded ${machine.dbEngine} on loopback.`,
    `- bcrypt cost ${settings.bcryptCost}, hashed on ${settings.hashingThreads} ${settings.hashingThreadsLowPriority ? 'low-priority worker threads' : 'libuv pool threads'}; libuv thread pool ${threadpool}.`,
    `- Reads: ${settings.readConnections} connections, best of ${settings.rounds} interleaved ${settings.readSeconds} s rounds per server. Logins: ${settings.loginConnections} connections, ${settings.loginSeconds} s. Paced reads: ${settings.pacedPerSecond}/s for ${settings.pacedSeconds} s. Refresh: ${settings.refreshConnections} connections, ${settings.refreshSeconds} s.`,
    '',
    '| # | scenario | server | throughput | p50 ms | p99 ms | server CPU ms/req | DB CPU ms/req | RSS after (MB) | failures |',
    '| - | -------- | ------ | ---------: | -----: | -----: | ----------------: | ------------: | -------------: | -------: |',
    loadRow('1', 'Guarded read `{ me { id roles } }`', 'API (`dist/`)', reads.guarded, 'req/s'),
    loadRow(
      '2',
      'Same read, `@auth` and token check removed',
      'bench variant',
      reads.unguarded,
      'req/s',
    ),
    loadRow('3', 'Ceiling: JWT check + user lookup', 'bare `node:http`', reads.ceiling, 'req/s'),
    loadRow(
      '3′',
      'Ceiling without the user lookup',
      'bare `node:http`',
      reads.ceilingNoLookup,
      'req/s',
    ),
    loadRow('4', `Login (bcrypt cost ${settings.bcryptCost})`, 'API', report.logins, 'logins/s'),
    pacedRow('5a', 'Read while idle', report.underLoad.idle, report.underLoad.rssBytes),
    pacedRow(
      '5b',
      `Read while logins saturate bcrypt (${decimal(report.underLoad.loginsPerSecond, 1)} logins/s alongside)`,
      report.underLoad.loaded,
      report.underLoad.rssBytes,
    ),
    loadRow('6', 'Refresh-token rotation', 'API', report.refresh, 'rotations/s'),
    '',
    '| target | ratio | measured | goal | |',
    '| ------ | ----: | -------- | ---- | - |',
    ...targets(report).map(
      (target) =>
        `| ${target.label} | ${decimal(target.ratio)} | ${target.detail} | ${target.atLeast ? '≥' : '≤'} ${target.bound.toFixed(2)} | ${verdict(target)} |`,
    ),
    `| Cross-check on CPU time: unguarded ÷ guarded server CPU per read | ${decimal(reads.unguarded.serverCpuMs / reads.guarded.serverCpuMs)} | ${decimal(reads.unguarded.serverCpuMs)} ms ÷ ${decimal(reads.guarded.serverCpuMs)} ms | (≥ 0.90) | |`,
    `| Event-loop delay p99 in the API, idle → logins saturating bcrypt | | ${decimal(report.underLoad.eventLoopIdle.p99)} ms → ${decimal(report.underLoad.eventLoopLoaded.p99)} ms (max ${decimal(report.underLoad.eventLoopLoaded.max)} ms) | | |`,
    '',
    `bcrypt: ${decimal(report.bcrypt.hashTime.medianMs, 1)} ms per comparison at cost ${settings.bcryptCost} ${report.bcrypt.onWorkers ? 'on a hashing worker like the API’s' : 'on the libuv pool'} (median, one at a time, ${report.bcrypt.hashTime.samples} samples before and after the logins; ${decimal(report.bcrypt.normalPriority.medianMs, 1)} ms at normal priority), so at most ${decimal(report.bcrypt.ceilingPerSecond, 1)} logins/s on ${report.bcrypt.parallelism} parallel hashes = min(${machine.cores} cores, ${settings.hashingThreads} hashing threads).`,
  ];
  return lines.join('\n');
}
