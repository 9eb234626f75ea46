import { SMTPServer } from 'smtp-server';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as EmbeddedDbModule from '../src/embedded/startEmbeddedDb';
import { freePort } from '../src/embedded/waitForPort';
import { FULL, SMOKE, type BenchContext } from './benchContext';
import { graphQLData, postGraphQL } from './graphqlRequest';
import { runHashFloodScenario } from './hashFloodScenario';
import { runLoginScenarios } from './loginScenarios';
import { findProcess, processCpuMicros } from './processCpu';
import { runReadScenarios, type ReadTarget } from './readScenarios';
import { runRefreshScenario } from './refreshScenario';
import { runSubscriptionScenario } from './subscriptionScenario';
import { renderScale, runScaleScenario, type ScaleResults } from './scaleScenario';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db/database';
import { createAccessTokens } from '../src/tokens/accessTokens';
import { peerUnavailable, startPeerProcess, type PeerProcess } from './peerProcess';
import { renderReport, type BenchReport } from './report';
import { startServerProcess, type ServerProcess } from './serverProcess';
import { writeResults } from './writeResults';

/**
 * `npm run bench`: the npm script builds `dist/` and this folder first; this starts the embedded
 * database, the API from `dist/` and the two baselines in child processes, runs every scenario on
 * loopback and prints a markdown table, also written to bench/RESULTS.md.
 *
 * Flags: `--smoke` (every scenario for about a second; fails only when something breaks, writes
 * no results), `--cost=N` (bcrypt cost: default 12 as configured, 10 for the smoke run),
 * `--cpu-prof` (CPU profiles of the servers into dist-bench/profiles), `--million` (the scale
 * scenario also at 1,000,000 users; adds most of an hour), `--no-scale` (skip the scale scenario),
 * `--scale-sizes=1000,10000` (the scale scenario's steps instead of 1,000, 10,000 and 100,000; at
 * least 1,000 each, increasing), `--scale-only` (the scale scenario alone, read path included;
 * prints its tables and writes no results, since they would replace the full report).
 */

const REPO_ROOT = path.resolve(__dirname, '../..');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'RESULTS.md');
const PROFILE_DIR = path.join(REPO_ROOT, 'dist-bench', 'profiles');

const ME = '{ me { id roles } }';
const REGISTER =
  'mutation Register($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }';

/** The `sid` claim of an access token (read without verifying: the bench issued it). */
function sessionIdOf(accessToken: string): string {
  const payload = JSON.parse(
    Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
  ) as { sid?: unknown };
  if (typeof payload.sid !== 'string') throw new Error('access token without sid');
  return payload.sid;
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** What the scenarios other than scale found (the report's measured part). */
type MainScenarioResults = Pick<
  BenchReport,
  'reads' | 'logins' | 'refresh' | 'subscriptions' | 'hashFlood'
>;

interface Args {
  readonly smoke: boolean;
  readonly cost: number;
  readonly cpuProf: boolean;
  /** Users in the database at each step of the scale scenario; empty to skip it. */
  readonly scaleSizes: readonly number[];
  /** Run the scale scenario alone (printed, not written to bench/RESULTS.md). */
  readonly scaleOnly: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const smoke = argv.includes('--smoke');
  const costArg = argv.find((arg) => arg.startsWith('--cost='));
  // The configured default, so logins are measured as deployed; the run's length does not depend
  // on it (every scenario runs for a fixed time).
  const cost = costArg ? Number(costArg.slice('--cost='.length)) : smoke ? 10 : 12;
  // The servers run in production mode, which refuses a cost under 10.
  if (!Number.isInteger(cost) || cost < 10 || cost > 31) throw new Error('--cost must be 10 to 31');
  const scaleOnly = argv.includes('--scale-only');
  const sizesArg = argv.find((arg) => arg.startsWith('--scale-sizes='));
  const scaleSizes = argv.includes('--no-scale')
    ? []
    : sizesArg
      ? sizesArg.slice('--scale-sizes='.length).split(',').map(Number)
      : smoke
        ? [1_000]
        : [1_000, 10_000, 100_000, ...(argv.includes('--million') ? [1_000_000] : [])];
  // Each step fills up to its size from the one before, so the sizes must grow.
  if (
    scaleSizes.some(
      (size, i) => !Number.isInteger(size) || size < 1_000 || size <= (scaleSizes[i - 1] ?? 0),
    )
  ) {
    throw new Error(
      '--scale-sizes must be increasing whole numbers of at least 1000, comma-separated',
    );
  }
  if (scaleOnly && scaleSizes.length === 0)
    throw new Error('--scale-only needs the scale scenario');
  return { smoke, cost, cpuProf: argv.includes('--cpu-prof'), scaleSizes, scaleOnly };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const profile = args.smoke ? SMOKE : FULL;
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0] ?? NaN;
  // About a minute per 10,000 users filled and measured, on top of the other scenarios.
  const deadlineSeconds =
    profile.deadlineSeconds + Math.max(0, ...args.scaleSizes) / (args.smoke ? 10 : 40);
  const deadline = setTimeout(() => {
    log(`FAILED: stopped after ${Math.round(deadlineSeconds)} s`);
    process.exit(1);
  }, deadlineSeconds * 1000);
  deadline.unref();
  const cores = os.availableParallelism();
  const nodeFlags = args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  if (args.cpuProf) mkdirSync(PROFILE_DIR, { recursive: true });
  let failed = 0;

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
  try {
    const mongodbUri = new URL(db.uri);
    mongodbUri.pathname = '/bench';
    const mailSink = await startMailSink();
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      // Production needs a mail server: registrations mail a verification link into this sink.
      SMTP_URL: mailSink,
      MONGODB_URI: mongodbUri.toString(),
      JWT_SECRET: randomBytes(48).toString('base64url'),
      BCRYPT_COST: String(args.cost),
      // All load comes from one loopback address and logs in to a handful of accounts many times
      // in parallel: the throttles (which count attempts before the hash) would measure themselves.
      AUTH_IP_LIMIT: '0',
      REGISTER_IP_LIMIT: '0',
      LOGIN_MAX_FAILURES: '1000',
      // Scenario 8 tells the API which address a request is from through X-Forwarded-For; the
      // other scenarios send none, so the loopback peer stays their address.
      TRUST_PROXY: '1',
      // Scenario 7 holds a thousand sockets of one user from one address.
      SUBSCRIPTION_MAX_CONNECTIONS_PER_USER: '5000',
      SUBSCRIPTION_MAX_CONNECTIONS_PER_IP: '5000',
      ...(process.env.UV_THREADPOOL_SIZE
        ? { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE }
        : {}),
    };
    /** Starts `entry` on a free port with the bench's environment unless `options.env` is given. */
    const start = async (
      name: string,
      entry: string,
      options: {
        readonly args?: string[];
        readonly nodeFlags?: string[];
        readonly env?: Record<string, string>;
      } = {},
    ) => {
      const port = await freePort();
      const server = await startServerProcess({
        name,
        entry,
        args: options.args ?? [],
        env: { ...(options.env ?? env), PORT: String(port) },
        port,
        nodeFlags: [...nodeFlags, ...(options.nodeFlags ?? [])],
      });
      servers.push(server);
      return server;
    };

    const fail = (count: number, what: string): void => {
      if (count > 0) log(`${what}: ${count} failed requests`);
      failed += count;
    };
    let scenarios: MainScenarioResults | undefined;
    if (!args.scaleOnly) {
      log('starting the API from dist/');
      // --expose-gc lets scenario 7 count live memory per socket; nothing else calls gc().
      const api = await start('api', 'dist/bin/server.js', { nodeFlags: ['--expose-gc'] });
      const graphqlUrl = `${api.url}/graphql`;
      const credentials = {
        email: 'bench@example.com',
        password: randomBytes(18).toString('base64url'),
      };
      const { register } = await graphQLData<{
        register: { accessToken: string; user: { id: string } };
      }>(graphqlUrl, REGISTER, { input: credentials });
      // Logins go to an account of their own: a user keeps at most 50 live sessions
      // (docs/sessions.md), so hundreds of logins would end the session the reads use.
      const loginCredentials = {
        email: 'bench-login@example.com',
        password: credentials.password,
      };
      await graphQLData(graphqlUrl, REGISTER, { input: loginCredentials });

      log('starting the baselines');
      const unguarded = await start('unguarded', 'dist-bench/bench/unguardedServer.js', {
        args: [register.user.id, sessionIdOf(register.accessToken)],
      });
      const ceiling = await start('ceiling', 'dist-bench/bench/ceilingServer.js');
      const noPrecheck = await start('noPrecheck', 'dist-bench/bench/noPrecheckServer.js');
      const bearer = { authorization: `Bearer ${register.accessToken}` };
      const readTargets: ReadTarget[] = [
        { key: 'guarded', server: api, path: '/graphql', headers: bearer },
        { key: 'noPrecheck', server: noPrecheck, path: '/graphql', headers: bearer },
        { key: 'unguarded', server: unguarded, path: '/graphql', headers: {} },
        { key: 'ceiling', server: ceiling, path: '/graphql', headers: bearer },
        { key: 'ceilingNoLookup', server: ceiling, path: '/graphql/no-lookup', headers: bearer },
      ];
      // Every server must give the very same answer, or comparing them means nothing.
      const answers = await Promise.all(
        readTargets.map((target) =>
          postGraphQL(
            `${target.server.url}${target.path}`,
            ME,
            undefined,
            target.key === 'unguarded' ? undefined : register.accessToken,
          ),
        ),
      );
      const expectBody = answers[0]?.text ?? '';
      if (!expectBody.includes(register.user.id) || answers.some((a) => a.text !== expectBody)) {
        throw new Error(
          `the servers answer differently:\n${answers.map((answer, i) => `${readTargets[i]?.key}: ${answer.status} ${answer.text}`).join('\n')}`,
        );
      }

      const context: BenchContext = {
        profile,
        bcryptCost: args.cost,
        cores,
        api,
        graphqlUrl,
        credentials: loginCredentials,
        token: register.accessToken,
        read: { body: JSON.stringify({ query: ME }), expectBody },
        async measure(server, load) {
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
        },
        fail,
        log,
      };

      const reads = await runReadScenarios(context, readTargets);
      await unguarded.stop();
      await ceiling.stop();
      await noPrecheck.stop();
      // Before the logins fill the refresh-token collection, which FerretDB scans on most queries.
      const refresh = await runRefreshScenario(context);
      const logins = await runLoginScenarios(context);
      const hashFlood = await runHashFloodScenario(
        context,
        profile.floodLogins,
        profile.floodBystanderLogins,
      );
      const subscriptions = await runSubscriptionScenario(
        context,
        profile.subscriptionSockets,
        profile.subscriptionEvents,
      );
      scenarios = { reads, logins, refresh, subscriptions, hashFlood };
    }

    let scale: ScaleResults | undefined;
    if (args.scaleSizes.length > 0) {
      // A database of its own, and an API at the lowest cost production allows: login latency
      // here is about the data, not bcrypt (scenario 4 measures that).
      const scaleUri = new URL(db.uri);
      scaleUri.pathname = '/scale';
      const scaleEnv = { ...env, MONGODB_URI: scaleUri.toString(), BCRYPT_COST: '10' };
      log('starting the API for the scale scenario');
      const scaleApi = await start('api-scale', 'dist/bin/server.js', { env: scaleEnv });
      // The read path's yardsticks, on the same database as this API.
      const scaleCeiling = await start('ceiling-scale', 'dist-bench/bench/ceilingServer.js', {
        env: scaleEnv,
      });
      const peerMissing = peerUnavailable();
      let peer: PeerProcess | undefined;
      if (peerMissing) {
        log(`the FastAPI + motor peer is ${peerMissing}: the read path goes without it`);
      } else {
        log('starting the FastAPI + motor peer');
        peer = await startPeerProcess(scaleEnv, await freePort());
      }
      // The fill writes batches of thousands: more than the 5 s a request may wait.
      const scaleDatabase = await connectDatabase(scaleUri.toString(), {
        socketTimeoutMS: 120_000,
      });
      try {
        const config = loadConfig(scaleEnv);
        scale = await runScaleScenario({
          graphqlUrl: `${scaleApi.url}/graphql`,
          database: scaleDatabase,
          accessTokens: createAccessTokens(config.jwt),
          sizes: args.scaleSizes,
          samples: args.smoke ? 10 : 200,
          bcryptCost: 10,
          sessionMaxAgeSeconds: config.sessionMaxAge,
          refreshTokenTtlSeconds: config.refreshTokenTtl,
          readServers: {
            api: scaleApi,
            ceiling: scaleCeiling,
            peer: peer ?? peerMissing ?? 'not started',
          },
          readRounds: args.smoke ? 1 : 3,
          readSeconds: args.smoke ? 1 : 5,
          dbPid,
          log,
          fail,
        });
      } finally {
        await scaleDatabase.close();
        await peer?.stop();
        await scaleCeiling.stop();
        await scaleApi.stop();
      }
    }

    const sections: string[] = [];
    if (scenarios) {
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
          loadAverage: [loadAtStart, os.loadavg()[0] ?? NaN],
        },
        settings: {
          bcryptCost: args.cost,
          threadpoolFromEnv: Boolean(process.env.UV_THREADPOOL_SIZE),
          readConnections: profile.readConnections,
          readSeconds: profile.readSeconds,
          rounds: profile.rounds,
          loginWindows: profile.loginWindows,
          loginSeconds: profile.loginSeconds,
          pacedPerSecond: profile.pacedPerSecond,
          pacedSeconds: profile.pacedSeconds,
          pacedWindows: profile.pacedWindows,
          refreshConnections: profile.readConnections,
          refreshSeconds: profile.refreshSeconds,
        },
        ...scenarios,
      };
      sections.push(renderReport(report));
    }
    if (scale) sections.push(`### Scale (scenario 7)\n\n${renderScale(scale)}`);
    const markdown = sections.join('\n\n');
    process.stdout.write(`\n${markdown}\n`);
    // A run of the scale scenario alone would replace the full report with a part of it.
    if (!args.smoke && scenarios) {
      await writeResults(RESULTS_FILE, markdown);
      log(`written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
    }
  } finally {
    for (const server of servers) await server.stop();
    await db.stop();
  }
  if (failed > 0) {
    log(`FAILED: ${failed} requests failed`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});

/**
 * An SMTP server that accepts and discards every message, on a free loopback port; it never keeps
 * the benchmark alive. Resolves to its smtp:// URL.
 */
function startMailSink(): Promise<string> {
  const sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback());
    },
  });
  return new Promise((resolve, reject) => {
    sink.on('error', reject);
    sink.listen(0, '127.0.0.1', () => {
      sink.server.unref();
      const address = sink.server.address();
      resolve(`smtp://127.0.0.1:${typeof address === 'object' && address ? address.port : 25}`);
    });
  });
}
