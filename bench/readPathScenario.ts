import { randomUUID } from 'node:crypto';
import type { AccessTokens } from '../src/tokens/accessTokens';
import { postGraphQL } from './graphqlRequest';
import { decimal, integer } from './format';
import { failures, runLoad, type LoadResult } from './loadTest';
import { combineRuns, median, type Measured } from './measured';
import { processCpuMicros } from './processCpu';

/**
 * The read path of the scale scenario, as the project issue sets its target: `{ me { id roles } }`
 * for 64 users, a different one on every request, over 32 connections, answered by the API, by
 * the bare `node:http` ceiling and by a FastAPI + motor peer, all three on the same database.
 * Each is measured idle in rounds (every server once per round, the order rotating, ratios taken
 * within a round, as scenarios 1–3 do); then the API alone while 8 closed-loop clients log in.
 */

/** A server process answering the read: where to send it and which process to charge. */
export interface ReadPathServer {
  /** Base URL; the read goes to `${url}/graphql`. */
  readonly url: string;
  readonly pid: number;
  /** What it runs on, when the label should say (the peer's event loop and HTTP parser). */
  readonly stack?: string;
  /** Throws if the process has died. */
  assertAlive(): void;
}

export type ReadPathKey = 'api' | 'ceiling' | 'peer';
const KEYS: readonly ReadPathKey[] = ['api', 'ceiling', 'peer'];

/** A filled user the read path can act as, with the password its logins use. */
export interface ReadPathUser {
  readonly email: string;
  readonly userId: string;
  readonly sessionId: string;
}

export interface ReadPathOptions {
  readonly api: ReadPathServer;
  readonly ceiling: ReadPathServer;
  /** The FastAPI + motor peer, or why it is not measured ("not installed (…)"). */
  readonly peer: ReadPathServer | string;
  readonly users: readonly ReadPathUser[];
  readonly password: string;
  readonly accessTokens: AccessTokens;
  readonly rounds: number;
  readonly seconds: number;
  /** The database process, to charge its CPU per read (undefined: not reported). */
  readonly dbPid: number | undefined;
  log(message: string): void;
  fail(count: number, what: string): void;
}

export interface ReadPathResult {
  readonly users: number;
  readonly connections: number;
  readonly rounds: number;
  readonly seconds: number;
  /** Medians over the rounds; no `peer` when it was not measured. */
  readonly servers: Readonly<Partial<Record<ReadPathKey, Measured>>>;
  /** Why the peer was not measured, when it was not. */
  readonly peerMissing: string | undefined;
  /** The peer's event loop and HTTP parser, when it was measured. */
  readonly peerStack: string | undefined;
  /** Per round, API req/s ÷ peer req/s (empty without the peer). */
  readonly apiOverPeer: readonly number[];
  /** Per round, API req/s ÷ ceiling req/s. */
  readonly apiOverCeiling: readonly number[];
  /** The API while 8 closed-loop clients log in. */
  readonly duringLogins: LoadResult;
  readonly loginsPerSecond: number;
}

const CONNECTIONS = 32;
const LOGIN_CLIENTS = 8;
const ME = '{ me { id roles } }';
const READ_BODY = JSON.stringify({ query: ME });
const LOGIN = 'mutation L($input: LoginInput!) { login(input: $input) { accessToken } }';

/**
 * Asks every server for every user once and requires the API's exact bytes from the others, and
 * the API's exact refusals from the peer (the ceiling refuses in a shape of its own). Returns the
 * set of correct answers, which every response under load must then be one of.
 */
async function expectedBodies(
  servers: ReadonlyMap<ReadPathKey, ReadPathServer>,
  users: readonly ReadPathUser[],
  tokens: readonly string[],
  accessTokens: AccessTokens,
): Promise<Set<string>> {
  const answer = async (key: ReadPathKey, token: string | undefined): Promise<string> => {
    const server = servers.get(key);
    if (!server) return '';
    const { status, text } = await postGraphQL(`${server.url}/graphql`, ME, undefined, token);
    return `${status} ${text}`;
  };
  const differ = (what: string, answers: ReadonlyMap<ReadPathKey, string>): Error =>
    new Error(
      `the read-path servers answer ${what} differently:\n${[...answers].map(([key, text]) => `${key}: ${text}`).join('\n')}`,
    );
  const bodies = new Set<string>();
  for (const [i, user] of users.entries()) {
    const answers = new Map<ReadPathKey, string>();
    for (const key of servers.keys()) answers.set(key, await answer(key, tokens[i]));
    const reference = answers.get('api') ?? '';
    if (
      !reference.startsWith('200 {"data":{"me":{"id":') ||
      !reference.includes(user.userId) ||
      [...answers.values()].some((text) => text !== reference)
    ) {
      throw differ(`user ${user.userId}`, answers);
    }
    bodies.add(reference.slice('200 '.length));
  }
  const revoked = users[0]
    ? accessTokens.sign({
        userId: users[0].userId,
        roles: ['USER'],
        sessionId: randomUUID(),
        fresh: true,
      }).token
    : undefined;
  for (const [what, token] of [
    ['a token without a live session', revoked],
    ['a request without a token', undefined],
  ] as const) {
    const answers = new Map<ReadPathKey, string>();
    for (const key of ['api', 'peer'] as const) {
      if (servers.has(key)) answers.set(key, await answer(key, token));
    }
    const reference = answers.get('api') ?? '';
    if (!reference.includes('"errors"') || [...answers.values()].some((t) => t !== reference)) {
      throw differ(what, answers);
    }
  }
  return bodies;
}

/** Runs the read path against servers that share the database `users` were filled into. */
export async function runReadPath(options: ReadPathOptions): Promise<ReadPathResult> {
  const { users } = options;
  // Minted now: tokens from the fill may have expired during a long one (a million users).
  const tokens = users.map(
    (who) =>
      options.accessTokens.sign({
        userId: who.userId,
        roles: ['USER'],
        sessionId: who.sessionId,
        fresh: true,
      }).token,
  );
  const servers = new Map<ReadPathKey, ReadPathServer>([
    ['api', options.api],
    ['ceiling', options.ceiling],
  ]);
  if (typeof options.peer !== 'string') servers.set('peer', options.peer);
  const bodies = await expectedBodies(servers, users, tokens, options.accessTokens);

  const reads = (server: ReadPathServer, seconds: number): Promise<LoadResult> => {
    let next = 0;
    return runLoad({
      url: `${server.url}/graphql`,
      connections: CONNECTIONS,
      durationSeconds: seconds,
      verifyBody: (body) => bodies.has(body),
      requests: [
        {
          method: 'POST',
          path: '/graphql',
          setupRequest: (request) => ({
            ...request,
            // A different user on every request, never one hot user.
            headers: {
              ...request.headers,
              authorization: `Bearer ${tokens[next++ % tokens.length] ?? ''}`,
            },
            body: READ_BODY,
          }),
        },
      ],
    });
  };
  const measure = async (server: ReadPathServer, seconds: number): Promise<Measured> => {
    const serverBefore = processCpuMicros(server.pid);
    const dbBefore = processCpuMicros(options.dbPid);
    const result = await reads(server, seconds);
    server.assertAlive();
    const requests = Math.max(1, result.completed);
    return {
      result,
      // Not reported for the read path: the peer is no Node process with the bench's probe.
      rssBytes: NaN,
      serverCpuMs: (processCpuMicros(server.pid) - serverBefore) / requests / 1000,
      dbCpuMs: (processCpuMicros(options.dbPid) - dbBefore) / requests / 1000,
    };
  };

  const order = [...servers.keys()];
  // Long enough for V8 to finish optimising the API's request path: measured on this machine,
  // its CPU per read kept falling for about 15 s of load (1.36 ms in the first 4 s, 0.95 in the
  // next 6, 0.78 after that), and a shorter warm-up measured the JIT rather than the code.
  for (const key of order) {
    await reads(servers.get(key) as ReadPathServer, 3 * options.seconds);
  }
  const runs = new Map<ReadPathKey, Measured[]>(order.map((key) => [key, []]));
  const apiOverPeer: number[] = [];
  const apiOverCeiling: number[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const thisRound = new Map<ReadPathKey, Measured>();
    for (let i = 0; i < order.length; i += 1) {
      const key = order[(i + round) % order.length] as ReadPathKey;
      const measured = await measure(servers.get(key) as ReadPathServer, options.seconds);
      options.fail(failures(measured.result), `read path (${key})`);
      thisRound.set(key, measured);
      runs.get(key)?.push(measured);
    }
    const perSecond = (key: ReadPathKey): number => thisRound.get(key)?.result.perSecond ?? NaN;
    if (servers.has('peer')) apiOverPeer.push(perSecond('api') / perSecond('peer'));
    apiOverCeiling.push(perSecond('api') / perSecond('ceiling'));
    options.log(
      `read path, round ${round + 1}: ${order.map((key) => `${key} ${Math.round(perSecond(key))}/s`).join(', ')}`,
    );
  }

  let loggingIn = true;
  let logins = 0;
  const loginClients = Array.from({ length: LOGIN_CLIENTS }, async (_, client) => {
    let i = client;
    while (loggingIn) {
      const who = users[i++ % users.length] as ReadPathUser;
      const { status } = await postGraphQL(`${options.api.url}/graphql`, LOGIN, {
        input: { email: who.email, password: options.password },
      });
      if (status === 200) logins += 1;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const startedAt = performance.now();
  const duringLogins = await reads(options.api, options.seconds);
  const elapsed = (performance.now() - startedAt) / 1000;
  loggingIn = false;
  await Promise.all(loginClients);
  options.fail(failures(duringLogins), 'read path during logins');

  const measured: Partial<Record<ReadPathKey, Measured>> = {};
  for (const key of order) measured[key] = combineRuns(runs.get(key) ?? []);
  options.log(
    `read path: API ÷ peer ${median(apiOverPeer).toFixed(2)}, API ÷ ceiling ${median(apiOverCeiling).toFixed(2)} (medians of rounds)`,
  );
  return {
    users: users.length,
    connections: CONNECTIONS,
    rounds: options.rounds,
    seconds: options.seconds,
    servers: measured,
    peerMissing: typeof options.peer === 'string' ? options.peer : undefined,
    peerStack: typeof options.peer === 'string' ? undefined : options.peer.stack,
    apiOverPeer,
    apiOverCeiling,
    duringLogins,
    loginsPerSecond: logins / elapsed,
  };
}

const verdict = (met: boolean): string => (met ? 'met' : '**missed**');

const LABELS: Readonly<Record<ReadPathKey, string>> = {
  api: 'API (`dist/`), idle',
  ceiling: 'bare `node:http` ceiling (`bench/ceilingServer.ts`), idle',
  peer: 'FastAPI + motor peer (`bench/peer/fastapi_me.py`, uvicorn, 1 worker), idle',
};

function labelOf(key: ReadPathKey, result: ReadPathResult): string {
  if (key !== 'peer' || !result.peerStack) return LABELS[key];
  return LABELS.peer.replace('1 worker', `1 worker, ${result.peerStack}`);
}

/** The read path as markdown: one row per server, then its targets. */
export function renderReadPath(result: ReadPathResult, users: number): string {
  const row = (label: string, load: LoadResult, cpu?: Measured): string =>
    `| ${label} | ${integer(load.perSecond)} | ${decimal(load.p50, 1)} | ${decimal(load.p99, 1)} | ${decimal(cpu?.serverCpuMs ?? NaN)} | ${decimal(cpu?.dbCpuMs ?? NaN)} | ${failures(load)} |`;
  const rows = KEYS.map((key) => {
    const measured = result.servers[key];
    return measured
      ? row(labelOf(key, result), measured.result, measured)
      : `| ${LABELS[key]} | ${result.peerMissing ?? 'not measured'} | | | | | |`;
  });
  const api = result.servers.api;
  const idleP99 = api?.result.p99 ?? NaN;
  const p99Ratio = result.duringLogins.p99 / idleP99;
  const apiOverPeer = median(result.apiOverPeer);
  const list = (ratios: readonly number[]): string =>
    ratios.map((ratio) => decimal(ratio)).join(', ');
  return [
    `| read path at ${users.toLocaleString('en-US')} users: \`{ me { id roles } }\`, ${result.users} users rotated per request, ${result.connections} connections | req/s | p50 ms | p99 ms | server CPU ms/req | DB CPU ms/req | failures |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    row(
      `API while ${LOGIN_CLIENTS} closed-loop clients log in (${decimal(result.loginsPerSecond, 1)} logins/s)`,
      result.duringLogins,
    ),
    '',
    '| read-path target | ratio | measured | goal | |',
    '| --- | ---: | --- | --- | --- |',
    result.peerMissing === undefined
      ? `| API ÷ FastAPI + motor peer, req/s | ${decimal(apiOverPeer)} | rounds: ${list(result.apiOverPeer)} | ≥ 2.00 | ${verdict(apiOverPeer >= 2)} |`
      : `| API ÷ FastAPI + motor peer, req/s | — | peer ${result.peerMissing} | ≥ 2.00 | not measured |`,
    `| API ÷ bare \`node:http\` ceiling, req/s | ${decimal(median(result.apiOverCeiling))} | rounds: ${list(result.apiOverCeiling)} | (for information) | |`,
    `| API read p99 while logging in ÷ idle | ${decimal(p99Ratio)} | ${decimal(result.duringLogins.p99, 1)} ms ÷ ${decimal(idleP99, 1)} ms | ≤ 1.50 | ${verdict(p99Ratio <= 1.5)} |`,
    '',
    `Idle rows: medians of ${result.rounds} round${result.rounds === 1 ? '' : 's'} of ${result.seconds} s per server, the order rotating; ratios are taken within each round. All three servers read the same database.`,
  ].join('\n');
}
