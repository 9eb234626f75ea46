import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { createHistogram } from 'node:perf_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as EmbeddedDbModule from '../src/embedded/startEmbeddedDb';
import { freePort } from '../src/embedded/waitForPort';
import { createHashingPool } from '../src/services/hashingPool';
import { measureBcryptHashTime, type BcryptHashTime } from './bcryptHashTime';
import { graphQLData, postGraphQL } from './graphqlRequest';
import { failures, runLoad, type LoadOptions, type LoadResult } from './loadTest';
import { runPacedReads, summarisePacedReads, type PacedReadResult } from './pacedReads';
import type { ProbeStats } from './probe';
import { findProcess, processCpuMicros } from './processCpu';
import { renderReport, type BenchReport, type Measured } from './report';
import { startServerProcess, type ServerProcess } from './serverProcess';
import { writeResults } from './writeResults';

/**
 * `npm run bench`: builds nothing itself (the npm script builds `dist/` and this folder first),
 * starts the embedded database, the API from `dist/` and the two baselines in child processes,
 * runs every scenario on loopback and prints a markdown table, also written to bench/RESULTS.md.
 *
 * Flags: `--smoke` (every scenario for about a second; fails only when something breaks, writes no
 * results), `--cost=N` (bcrypt cost, default 10), `--cpu-prof` (CPU profiles of the servers into
 * dist-bench/profiles).
 */

interface Profile {
  readonly warmupSeconds: number;
  readonly readSeconds: number;
  readonly rounds: number;
  readonly readConnections: number;
  readonly hashSeconds: number;
  readonly loginSeconds: number;
  readonly pacedPerSecond: number;
  readonly pacedSeconds: number;
  /** Idle and loaded paced-read windows, alternating. */
  readonly pacedWindows: number;
  readonly refreshSeconds: number;
  /** The whole run is stopped (and fails) past this. */
  readonly deadlineSeconds: number;
}

const FULL: Profile = {
  warmupSeconds: 3,
  readSeconds: 8,
  rounds: 2,
  readConnections: 10,
  hashSeconds: 2,
  loginSeconds: 8,
  pacedPerSecond: 100,
  pacedSeconds: 5,
  pacedWindows: 2,
  refreshSeconds: 8,
  deadlineSeconds: 240,
};

const SMOKE: Profile = {
  warmupSeconds: 0,
  readSeconds: 1,
  rounds: 1,
  readConnections: 4,
  hashSeconds: 0,
  loginSeconds: 1,
  pacedPerSecond: 20,
  pacedSeconds: 1,
  pacedWindows: 1,
  refreshSeconds: 1,
  deadlineSeconds: 120,
};

type ProbeDelay = ProbeStats['eventLoopDelay'];

const REPO_ROOT = path.resolve(__dirname, '../..');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'RESULTS.md');
const PROFILE_DIR = path.join(REPO_ROOT, 'dist-bench', 'profiles');

const ME = '{ me { id roles } }';
const REGISTER =
  'mutation Register($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }';
const LOGIN = 'mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }';
const LOGIN_FOR_REFRESH =
  'mutation Login($input: LoginInput!) { login(input: $input) { refreshToken } }';
const REFRESH =
  'mutation Refresh($token: String!) { refreshToken(refreshToken: $token) { accessToken refreshToken } }';

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function parseArgs(argv: readonly string[]): { smoke: boolean; cost: number; cpuProf: boolean } {
  const costArg = argv.find((arg) => arg.startsWith('--cost='));
  const cost = costArg ? Number(costArg.slice('--cost='.length)) : 10;
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) throw new Error('--cost must be 4 to 31');
  return { smoke: argv.includes('--smoke'), cost, cpuProf: argv.includes('--cpu-prof') };
}

function describe({ result, serverCpuMs, dbCpuMs }: Measured, unit = 'req/s'): string {
  return `${Math.round(result.perSecond)} ${unit}, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, CPU per request ${serverCpuMs.toFixed(2)} ms (database ${dbCpuMs.toFixed(2)} ms), ${failures(result)} failed`;
}

function describePaced(result: PacedReadResult): string {
  return `${result.completed} reads, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ${result.failures} failed`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const profile = args.smoke ? SMOKE : FULL;
  const startedAt = new Date();
  const deadline = setTimeout(() => {
    log(`stopped: the run took longer than ${profile.deadlineSeconds} s`);
    process.exit(1);
  }, profile.deadlineSeconds * 1000);
  deadline.unref();

  const cores = os.availableParallelism();
  const threadpoolFromEnv = Boolean(process.env.UV_THREADPOOL_SIZE);
  const nodeFlags = args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  if (args.cpuProf) mkdirSync(PROFILE_DIR, { recursive: true });
  let problems = 0;
  const count = (failed: number, what: string): void => {
    if (failed > 0) log(`${what}: ${failed} failed requests`);
    problems += failed;
  };

  log('starting the embedded database');
  // From dist/, like the API: the module finds the FerretDB build script relative to itself.
  const { startEmbeddedDb } = (await import(
    pathToFileURL(path.join(REPO_ROOT, 'dist/embedded/startEmbeddedDb.js')).href
  )) as typeof EmbeddedDbModule;
  const db = await startEmbeddedDb({ engine: 'auto', log });
  const dbPid = findProcess(
    db.engine === 'ferretdb' ? `--listen-addr=127.0.0.1:${db.port}` : `--port ${db.port}`,
  );
  const servers: ServerProcess[] = [];
  // Runs one load against `server` and charges the CPU time its process and the database spent
  // to the requests it completed: unlike req/s, that barely moves when other work shares the
  // machine.
  const measure = async (
    server: ServerProcess,
    load: () => Promise<LoadResult>,
  ): Promise<Measured> => {
    const before = await server.stats();
    const dbBefore = processCpuMicros(dbPid);
    const result = await load();
    server.assertAlive();
    const after = await server.stats();
    const requests = Math.max(1, result.completed);
    return {
      result,
      rssBytes: after.rssBytes,
      serverCpuMs: (after.cpuMicros - before.cpuMicros) / requests / 1000,
      dbCpuMs: (processCpuMicros(dbPid) - dbBefore) / requests / 1000,
    };
  };
  try {
    const mongodbUri = new URL(db.uri);
    mongodbUri.pathname = '/bench';
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      MONGODB_URI: mongodbUri.toString(),
      JWT_SECRET: randomBytes(48).toString('base64url'),
      BCRYPT_COST: String(args.cost),
      ...(process.env.UV_THREADPOOL_SIZE
        ? { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE }
        : {}),
    };
    const start = async (
      name: string,
      entry: string,
      extraArgs: string[] = [],
    ): Promise<ServerProcess> => {
      const port = await freePort();
      const server = await startServerProcess({
        name,
        entry,
        args: extraArgs,
        env: { ...env, PORT: String(port) },
        port,
        nodeFlags,
      });
      servers.push(server);
      return server;
    };

    log('starting the API from dist/');
    const api = await start('api', 'dist/index.js');
    const graphqlUrl = `${api.url}/graphql`;
    const credentials = {
      email: 'bench@example.com',
      password: randomBytes(18).toString('base64url'),
    };
    const registered = await graphQLData<{
      register: { accessToken: string; user: { id: string } };
    }>(graphqlUrl, REGISTER, { input: credentials });
    const token = registered.register.accessToken;
    const userId = registered.register.user.id;

    log('starting the baselines');
    const unguarded = await start('unguarded', 'dist-bench/bench/unguardedServer.js', [userId]);
    const ceiling = await start('ceiling', 'dist-bench/bench/ceilingServer.js');

    // Every server must give the very same answer, or the comparison means nothing.
    const bearer = { authorization: `Bearer ${token}` };
    const readTargets = [
      { key: 'guarded', server: api, path: '/graphql', headers: bearer },
      { key: 'unguarded', server: unguarded, path: '/graphql', headers: {} },
      { key: 'ceiling', server: ceiling, path: '/graphql', headers: bearer },
      { key: 'ceilingNoLookup', server: ceiling, path: '/graphql/no-lookup', headers: bearer },
    ] as const;
    const answers = await Promise.all(
      readTargets.map((target) =>
        postGraphQL(
          `${target.server.url}${target.path}`,
          ME,
          undefined,
          target.key === 'unguarded' ? undefined : token,
        ),
      ),
    );
    const expectBody = answers[0]?.text ?? '';
    if (!expectBody.includes(userId) || answers.some((answer) => answer.text !== expectBody)) {
      throw new Error(
        `the servers answer differently:\n${answers.map((answer, i) => `${readTargets[i]?.key}: ${answer.status} ${answer.text}`).join('\n')}`,
      );
    }
    const readBody = JSON.stringify({ query: ME });
    const readOptions = (target: (typeof readTargets)[number], seconds: number): LoadOptions => ({
      url: `${target.server.url}${target.path}`,
      connections: profile.readConnections,
      durationSeconds: seconds,
      body: readBody,
      headers: target.headers,
      expectBody,
    });

    // Scenarios 1–3: throughput of the same read on the API and its two baselines, interleaved
    // so that whatever else the machine does hits all of them alike; the best round counts.
    if (profile.warmupSeconds > 0) {
      log('warming up');
      for (const target of readTargets) await runLoad(readOptions(target, profile.warmupSeconds));
    }
    const best = new Map<string, Measured>();
    for (let round = 1; round <= profile.rounds; round += 1) {
      for (const target of readTargets) {
        const measured = await measure(target.server, () =>
          runLoad(readOptions(target, profile.readSeconds)),
        );
        log(`read ${target.key}, round ${round}: ${describe(measured)}`);
        count(failures(measured.result), `read ${target.key}`);
        const previous = best.get(target.key);
        if (!previous || measured.result.perSecond > previous.result.perSecond) {
          best.set(target.key, measured);
        }
      }
    }
    const bestOf = (key: string): Measured => {
      const found = best.get(key);
      if (!found) throw new Error(`no read result for ${key}`);
      return found;
    };
    await unguarded.stop();
    await ceiling.stop();

    // Scenario 6: each connection keeps exchanging its own refresh token for the next one. It runs
    // before the login scenarios fill the refresh-token collection, which an embedded FerretDB
    // scans on most queries.
    const refreshConnections = profile.readConnections;
    const pool: string[] = [];
    for (let i = 0; i < refreshConnections; i += 1) {
      const data = await graphQLData<{ login: { refreshToken: string } }>(
        graphqlUrl,
        LOGIN_FOR_REFRESH,
        { input: credentials },
      );
      pool.push(data.login.refreshToken);
    }
    const refresh = await measure(api, () =>
      runLoad({
        url: graphqlUrl,
        connections: refreshConnections,
        durationSeconds: profile.refreshSeconds,
        verifyBody: (body) => body.startsWith('{"data":{"refreshToken":{"accessToken":"'),
        requests: [
          {
            method: 'POST',
            path: '/graphql',
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ query: REFRESH, variables: { token: pool.pop() ?? 'none' } }),
            }),
            onResponse: (_status, body) => {
              const next = /"refreshToken":"([^"]+)"/.exec(body)?.[1];
              if (next) pool.push(next);
            },
          },
        ],
      }),
    );
    log(`refresh: ${describe(refresh, 'rotations/s')}`);
    count(failures(refresh.result), 'refresh');

    // Scenario 4: logins against what bcrypt allows on this machine. The hash time is taken on
    // the same kind of thread the API hashes on (its low-priority workers when it has them, which
    // registering the bench user started), just before and just after the logins.
    const { threadpoolSize, lowPriorityThreads: workersBefore } = await api.stats();
    const hashingPool = createHashingPool({ size: 1 });
    const onWorkers = workersBefore > 0;
    const timeHashes = (): Promise<BcryptHashTime> =>
      measureBcryptHashTime(
        args.cost,
        profile.hashSeconds,
        onWorkers ? (password, hash) => hashingPool.compare(password, hash) : undefined,
      );
    log(`timing bcrypt at cost ${args.cost}`);
    const normalPriority = await measureBcryptHashTime(args.cost, profile.hashSeconds);
    const hashTimeBefore = await timeHashes();
    // Twice as many logins in flight as hashes can run, so a hash always waits when one finishes.
    const loginConnections = Math.max(cores, threadpoolSize) * 2;
    const loginOptions = (seconds: number): LoadOptions => ({
      url: graphqlUrl,
      connections: loginConnections,
      durationSeconds: seconds,
      body: JSON.stringify({ query: LOGIN, variables: { input: credentials } }),
      verifyBody: (body) => body.startsWith('{"data":{"login":{"accessToken":"'),
    });
    const logins = await measure(api, () => runLoad(loginOptions(profile.loginSeconds)));
    const hashTimeAfter = await timeHashes();
    const hashTime: BcryptHashTime = {
      cost: args.cost,
      medianMs: (hashTimeBefore.medianMs + hashTimeAfter.medianMs) / 2,
      samples: hashTimeBefore.samples + hashTimeAfter.samples,
    };
    const { lowPriorityThreads } = await api.stats();
    const hashingThreads = onWorkers ? lowPriorityThreads : threadpoolSize;
    const parallelism = Math.min(cores, hashingThreads);
    const ceilingPerSecond = (parallelism * 1000) / hashTime.medianMs;
    log(
      `bcrypt: ${hashTime.medianMs.toFixed(1)} ms per hash on ${onWorkers ? 'a hashing worker' : 'the libuv pool'} (${normalPriority.medianMs.toFixed(1)} ms at normal priority)`,
    );
    log(`login: ${describe(logins, 'logins/s')} (ceiling ${ceilingPerSecond.toFixed(1)}/s)`);
    count(failures(logins.result), 'login');

    // Scenario 5: a light, steady read stream, alone and while logins keep bcrypt busy. Idle and
    // loaded windows alternate so that drifting background load on the machine hits both alike.
    const idleLatencies = createHistogram();
    const loadedLatencies = createHistogram();
    const pacedCounts = { idle: { completed: 0, failed: 0 }, loaded: { completed: 0, failed: 0 } };
    const eventLoop = { idle: [] as ProbeDelay[], loaded: [] as ProbeDelay[] };
    let loginsAlongside = { completed: 0, seconds: 0, failed: 0 };
    const pacedWindow = async (state: 'idle' | 'loaded'): Promise<void> => {
      await api.resetStats();
      const result = await runPacedReads({
        url: graphqlUrl,
        body: readBody,
        headers: bearer,
        expectBody,
        perSecond: profile.pacedPerSecond,
        durationSeconds: profile.pacedSeconds,
        latencies: state === 'idle' ? idleLatencies : loadedLatencies,
      });
      eventLoop[state].push((await api.stats()).eventLoopDelay);
      pacedCounts[state].completed += result.completed;
      pacedCounts[state].failed += result.failures;
    };
    for (let window = 0; window < profile.pacedWindows; window += 1) {
      await pacedWindow('idle');
      // The logins start first and stop last, so the whole read window sees saturated hashing.
      const loginLoad = runLoad(loginOptions(profile.pacedSeconds + 2));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await pacedWindow('loaded');
      const logins = await loginLoad;
      loginsAlongside = {
        completed: loginsAlongside.completed + logins.completed,
        seconds: loginsAlongside.seconds + logins.seconds,
        failed: loginsAlongside.failed + failures(logins),
      };
      api.assertAlive();
    }
    const underLoadRss = (await api.stats()).rssBytes;
    const idle = summarisePacedReads(
      idleLatencies,
      pacedCounts.idle.completed,
      pacedCounts.idle.failed,
    );
    const loaded = summarisePacedReads(
      loadedLatencies,
      pacedCounts.loaded.completed,
      pacedCounts.loaded.failed,
    );
    // The worst window of each kind, so a quiet window cannot hide a bad one.
    const worstDelay = (windows: ProbeDelay[]): ProbeDelay => ({
      p50: Math.max(...windows.map((delay) => delay.p50)),
      p99: Math.max(...windows.map((delay) => delay.p99)),
      max: Math.max(...windows.map((delay) => delay.max)),
    });
    const eventLoopIdle = worstDelay(eventLoop.idle);
    const eventLoopLoaded = worstDelay(eventLoop.loaded);
    log(`paced read, idle: ${describePaced(idle)}`);
    log(`paced read, logins saturating bcrypt: ${describePaced(loaded)}`);
    log(
      `event-loop delay p99: idle ${eventLoopIdle.p99.toFixed(2)} ms, under logins ${eventLoopLoaded.p99.toFixed(2)} ms`,
    );
    count(idle.failures + loaded.failures, 'paced read');
    count(loginsAlongside.failed, 'login alongside reads');

    const report: BenchReport = {
      smoke: args.smoke,
      startedAt,
      seconds: (Date.now() - startedAt.getTime()) / 1000,
      machine: {
        cores,
        cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
        node: process.version,
        platform: `${os.platform()} ${os.arch()}`,
        dbEngine: db.engine === 'ferretdb' ? 'FerretDB 1.24 (SQLite)' : 'mongod',
      },
      settings: {
        bcryptCost: args.cost,
        threadpoolSize,
        threadpoolFromEnv,
        hashingThreads,
        hashingThreadsLowPriority: lowPriorityThreads > 0,
        readConnections: profile.readConnections,
        readSeconds: profile.readSeconds,
        rounds: profile.rounds,
        loginConnections,
        loginSeconds: profile.loginSeconds,
        pacedPerSecond: profile.pacedPerSecond,
        pacedSeconds: profile.pacedSeconds,
        refreshConnections,
        refreshSeconds: profile.refreshSeconds,
      },
      reads: {
        guarded: bestOf('guarded'),
        unguarded: bestOf('unguarded'),
        ceiling: bestOf('ceiling'),
        ceilingNoLookup: bestOf('ceilingNoLookup'),
      },
      bcrypt: { hashTime, normalPriority, onWorkers, parallelism, ceilingPerSecond },
      logins,
      underLoad: {
        idle,
        loaded,
        eventLoopIdle,
        eventLoopLoaded,
        loginsPerSecond: loginsAlongside.completed / Math.max(1, loginsAlongside.seconds),
        rssBytes: underLoadRss,
      },
      refresh,
    };
    const markdown = renderReport(report);
    process.stdout.write(`\n${markdown}\n`);
    if (!args.smoke) {
      writeResults(RESULTS_FILE, markdown);
      log(`written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
    }
  } finally {
    for (const server of servers) await server.stop();
    await db.stop();
  }
  if (problems > 0) {
    log(`FAILED: ${problems} requests failed`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
