import type { HashFloodResults } from './hashFloodScenario';
import type { LoginResults } from './loginScenarios';
import { median, type Measured } from './measured';
import { decimal, integer } from './format';
import type { PacedReadResult } from './pacedReads';
import type { ReadResults } from './readScenarios';
import type { SubscriptionResults } from './subscriptionScenario';

/** Everything one benchmark run found. */
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
    /** 1-minute load averages at the start and the end: how much else the machine was doing. */
    readonly loadAverage: readonly [number, number];
  };
  readonly settings: {
    readonly bcryptCost: number;
    readonly threadpoolFromEnv: boolean;
    readonly readConnections: number;
    readonly readSeconds: number;
    readonly rounds: number;
    readonly loginWindows: number;
    readonly loginSeconds: number;
    readonly pacedPerSecond: number;
    readonly pacedSeconds: number;
    readonly pacedWindows: number;
    readonly refreshConnections: number;
    readonly refreshSeconds: number;
  };
  readonly reads: ReadResults;
  readonly logins: LoginResults;
  readonly refresh: Measured;
  readonly subscriptions: SubscriptionResults;
  readonly hashFlood: HashFloodResults;
}

/** A target on a ratio; `atLeast` false means the ratio must stay at or below `bound`. */
interface Target {
  readonly label: string;
  readonly ratio: number;
  readonly detail: string;
  readonly bound: number;
  readonly atLeast: boolean;
}

const megabytes = (bytes: number): string =>
  Number.isFinite(bytes) ? `${Math.round(bytes / (1024 * 1024))}` : '—';
const list = (ratios: readonly number[]): string =>
  ratios.map((ratio) => decimal(ratio)).join(', ');

function loadRow(
  id: string,
  scenario: string,
  server: string,
  { result, rssBytes, serverCpuMs, dbCpuMs }: Measured,
  unit: string,
): string {
  const failed = result.errors + result.non2xx + result.mismatches;
  const rate = result.perSecond >= 100 ? integer(result.perSecond) : decimal(result.perSecond, 1);
  return `| ${id} | ${scenario} | ${server} | ${rate} ${unit} | ${decimal(result.p50)} | ${decimal(result.p99)} | ${decimal(serverCpuMs)} | ${decimal(dbCpuMs)} | ${megabytes(rssBytes)} | ${failed} |`;
}

function pacedRow(id: string, scenario: string, result: PacedReadResult, rssBytes: number): string {
  return `| ${id} | ${scenario} | API | ${integer(result.completed)} reads | ${decimal(result.p50)} | ${decimal(result.p99)} | | | ${megabytes(rssBytes)} | ${result.failures} |`;
}

function subscriptionLine(s: SubscriptionResults): string {
  const kib = (bytes: number): string => decimal(bytes / 1024, 1);
  return `Subscriptions (7): ${integer(s.sockets)} WebSockets of one user, each subscribed to \`securityEvents\` and idle: ${kib(s.rssBytesPerSocket)} KiB of server RSS per socket (${kib(s.heapBytesPerSocket)} KiB of it JavaScript heap). ${s.events} sign-ins, each delivered to every socket: latency from the event's \`at\` to its arrival p50 ${decimal(s.latency.p50, 0)} ms, p99 ${decimal(s.latency.p99, 0)} ms, max ${decimal(s.latency.max, 0)} ms; the last of the ${integer(s.sockets)} sockets had each event after ${decimal(s.allDeliveredMs, 0)} ms (median over events); ${s.failures} failures.`;
}

function hashFloodLine(h: HashFloodResults): string {
  const during = h.duringMs.map((ms) => integer(ms)).join(', ');
  return `Hash flood (8): ${integer(h.flood)} concurrent logins with unknown emails from one address: ${integer(h.refused)} refused at once (\`RATE_LIMITED\`), ${integer(h.answered)} hashed and answered, the last after ${integer(h.floodMs)} ms. Meanwhile logins from another address took ${during} ms (max ${integer(Math.max(...h.duringMs))} ms; goal under 2,000 ms) against ${integer(h.idleMs)} ms with the pool idle; ${h.failures} failures.`;
}

function targets({ reads, logins }: BenchReport): Target[] {
  const { bcrypt, underLoad } = logins;
  return [
    {
      label: 'Auth overhead: guarded ÷ unguarded req/s',
      ratio: median(reads.authOverhead),
      detail: `rounds: ${list(reads.authOverhead)}`,
      bound: 0.9,
      atLeast: true,
    },
    {
      label: 'Pre-execution check: guarded ÷ guarded without the check req/s',
      ratio: median(reads.precheckCost),
      detail: `rounds: ${list(reads.precheckCost)}`,
      bound: 0.95,
      atLeast: true,
    },
    {
      label: 'Guarded read ÷ bare `node:http` ceiling req/s',
      ratio: median(reads.ofCeiling),
      detail: `rounds: ${list(reads.ofCeiling)}`,
      bound: 0.4,
      atLeast: true,
    },
    {
      label: `Logins/s ÷ bcrypt ceiling (${bcrypt.parallelism} × 1 / ${decimal(bcrypt.hashMs, 1)} ms = ${decimal(bcrypt.ceilingPerSecond, 1)}/s)`,
      ratio: median(bcrypt.windowRatios),
      detail: `windows: ${list(bcrypt.windowRatios)}`,
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
  const { machine, settings, reads, logins } = report;
  const { bcrypt, underLoad } = logins;
  const threadpool = `${logins.threadpoolSize}${settings.threadpoolFromEnv ? ' (UV_THREADPOOL_SIZE)' : ' (libuv default)'}`;
  const hashing = bcrypt.onWorkers
    ? `${bcrypt.hashingThreads} low-priority worker threads`
    : `the libuv thread pool`;
  const lines = [
    `Run of ${report.startedAt.toISOString()}${report.smoke ? ' (smoke run: far too short to mean anything)' : ''}, ${Math.round(report.seconds)} s after the build.`,
    '',
    `- Machine: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ${machine.platform}; load average ${decimal(machine.loadAverage[0])} at the start, ${decimal(machine.loadAverage[1])} at the end; database: embedded ${machine.dbEngine}; everything on loopback.`,
    `- bcrypt cost ${settings.bcryptCost}, hashed on ${hashing}; libuv thread pool ${threadpool}.`,
    `- Reads: ${settings.readConnections} connections, ${settings.rounds} rounds × ${settings.readSeconds} s per server in rotating order; figures are medians of the rounds, ratios are taken within each round. Logins: ${logins.loginConnections} connections, ${settings.loginWindows} × ${settings.loginSeconds} s. Paced reads: ${settings.pacedPerSecond}/s, ${settings.pacedWindows} idle and ${settings.pacedWindows} loaded windows of ${settings.pacedSeconds} s. Refresh: ${settings.refreshConnections} connections, ${settings.refreshSeconds} s.`,
    '',
    '| # | scenario | server | throughput | p50 ms | p99 ms | server CPU ms/req | DB CPU ms/req | RSS after (MB) | failures |',
    '| - | -------- | ------ | ---------: | -----: | -----: | ----------------: | ------------: | -------------: | -------: |',
    loadRow(
      '1',
      'Guarded read `{ me { id roles } }`',
      'API (`dist/`)',
      reads.servers.guarded,
      'req/s',
    ),
    loadRow(
      '1′',
      'Same read, guards decided as fields resolve (no pre-execution check)',
      'API variant',
      reads.servers.noPrecheck,
      'req/s',
    ),
    loadRow(
      '2',
      'Same read, `@auth` and token check removed',
      'bench variant',
      reads.servers.unguarded,
      'req/s',
    ),
    loadRow(
      '3',
      'Ceiling: same JWT check and user lookup',
      'bare `node:http`',
      reads.servers.ceiling,
      'req/s',
    ),
    loadRow(
      '3′',
      'Ceiling without the user lookup',
      'bare `node:http`',
      reads.servers.ceilingNoLookup,
      'req/s',
    ),
    loadRow('4', `Login, bcrypt cost ${settings.bcryptCost}`, 'API', logins.logins, 'logins/s'),
    pacedRow(
      '5a',
      `Paced read (${settings.pacedPerSecond}/s), idle`,
      underLoad.idle,
      underLoad.rssBytes,
    ),
    pacedRow(
      '5b',
      `Paced read (${settings.pacedPerSecond}/s) while logins saturate bcrypt (${decimal(underLoad.loginsPerSecond, 1)} logins/s alongside)`,
      underLoad.loaded,
      underLoad.rssBytes,
    ),
    loadRow('6', 'Refresh-token rotation', 'API', report.refresh, 'rotations/s'),
    '',
    subscriptionLine(report.subscriptions),
    '',
    hashFloodLine(report.hashFlood),
    '',
    '| target | ratio | measured | goal | |',
    '| ------ | ----: | -------- | ---- | - |',
    ...targets(report).map(
      (target) =>
        `| ${target.label} | ${decimal(target.ratio)} | ${target.detail} | ${target.atLeast ? '≥' : '≤'} ${target.bound.toFixed(2)} | ${verdict(target)} |`,
    ),
    `| Cross-check on CPU time: unguarded ÷ guarded server CPU per read | ${decimal(median(reads.cpuCrossCheck))} | rounds: ${list(reads.cpuCrossCheck)} | (≥ 0.90) | |`,
    `| Cross-check on CPU time: bcrypt ÷ all API and database CPU per login | ${decimal(bcrypt.cpuShare)} | ${decimal(bcrypt.hashCpuMs, 1)} ms ÷ (${decimal(logins.logins.serverCpuMs, 1)} + ${decimal(logins.logins.dbCpuMs, 1)}) ms | (≥ 0.90) | |`,
    `| Event-loop delay p99 in the API (worst window), idle → logins saturating bcrypt | | ${decimal(underLoad.eventLoopIdle.p99)} ms → ${decimal(underLoad.eventLoopLoaded.p99)} ms (max ${decimal(underLoad.eventLoopLoaded.max)} ms) | | |`,
    '',
    `bcrypt at cost ${settings.bcryptCost}: ${decimal(bcrypt.hashMs, 1)} ms per comparison (median of ${bcrypt.samples}, one at a time at normal priority, timed before and after each login window; ${decimal(bcrypt.hashCpuMs, 1)} ms of CPU), so the ceiling is ${decimal(bcrypt.ceilingPerSecond, 1)} logins/s on ${bcrypt.parallelism} parallel hashes = min(${machine.cores} cores, ${bcrypt.hashingThreads} hashing threads). Each login window's ratio uses the hash times measured either side of it.`,
  ];
  return lines.join('\n');
}
