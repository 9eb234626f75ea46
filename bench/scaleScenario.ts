import { createHash, randomBytes, randomUUID } from 'node:crypto';
import bcrypt from 'bcrypt';
import { Types } from 'mongoose';
import type { Database } from '../src/db/database';
import type { AccessTokens } from '../src/tokens/accessTokens';
import { postGraphQL } from './graphqlRequest';
import { decimal } from './format';
import {
  renderReadPath,
  runReadPath,
  type ReadPathResult,
  type ReadPathServer,
} from './readPathScenario';

/**
 * Scenario 7 (docs/data-model.md): the same operations with 1,000, 10,000 and 100,000 users in
 * the database (1,000,000 with `--million`), each with one live session, filled directly through
 * the models' collections (registering 100,000 users over the API would take hours of bcrypt).
 * At each size it measures, one request at a time on random users, `me`, `sessions`,
 * `refreshToken` and `login`; and once, how many documents a session holds after 100 rotations.
 * Then, at the largest size, the read path (bench/readPathScenario.ts): `{ me { id roles } }` for
 * 64 users over 32 connections from the API, the bare `node:http` ceiling and the FastAPI + motor
 * peer, and from the API while 8 closed-loop clients log in.
 */

/** Latencies of one operation at one size, in milliseconds. */
export interface OperationLatency {
  readonly p50: number;
  readonly p99: number;
  readonly failed: number;
}

export type ScaleOperation = 'me' | 'sessions' | 'refreshToken' | 'login';
export const SCALE_OPERATIONS: readonly ScaleOperation[] = [
  'me',
  'sessions',
  'refreshToken',
  'login',
];

export interface ScaleStep {
  readonly users: number;
  /** Seconds the fill up to this size took (from the previous size). */
  readonly fillSeconds: number;
  readonly operations: Readonly<Record<ScaleOperation, OperationLatency>>;
}

export interface ScaleResults {
  readonly steps: readonly ScaleStep[];
  /** Documents of one session (its session document and secrets) after 1 and after 100 rotations. */
  readonly documentsPerSession: { readonly after1: number; readonly after100: number };
  readonly bcryptCost: number;
  readonly samplesPerOperation: number;
  readonly readPath: ReadPathResult;
}

export interface ScaleOptions {
  readonly graphqlUrl: string;
  readonly database: Database;
  readonly accessTokens: AccessTokens;
  readonly sizes: readonly number[];
  readonly samples: number;
  readonly bcryptCost: number;
  readonly sessionMaxAgeSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  /** The servers of the read path, all on `database`: see bench/readPathScenario.ts. */
  readonly readServers: {
    readonly api: ReadPathServer;
    readonly ceiling: ReadPathServer;
    /** The FastAPI + motor peer, or why it is not measured. */
    readonly peer: ReadPathServer | string;
  };
  readonly readRounds: number;
  readonly readSeconds: number;
  /** The database process, whose CPU the read path charges per read. */
  readonly dbPid: number | undefined;
  log(message: string): void;
  fail(count: number, what: string): void;
}

/** A filled user the bench can act as: it knows the password and holds the session's tokens. */
interface Sampled {
  readonly email: string;
  readonly userId: string;
  readonly sessionId: string;
  refreshToken: string;
  readonly accessToken: string;
}

const PASSWORD = 'scale benchmark password';
const BATCH = 1000;
const ME = '{ me { id roles } }';
const SESSIONS = '{ sessions { id } }';
const REFRESH = 'mutation R($t: String!) { refreshToken(refreshToken: $t) { refreshToken } }';
const LOGIN = 'mutation L($input: LoginInput!) { login(input: $input) { accessToken } }';

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Inserts users `from` to `to` - 1 with one live session each; returns a sample of them. */
async function fill(
  options: ScaleOptions,
  passwordHash: string,
  from: number,
  to: number,
  sampleEvery: number,
): Promise<Sampled[]> {
  const { User, UserEmail, Session, RefreshSecret } = options.database.models;
  const sampled: Sampled[] = [];
  const now = new Date();
  const sessionExpiresAt = new Date(now.getTime() + options.sessionMaxAgeSeconds * 1000);
  const expiresAt = new Date(
    Math.min(sessionExpiresAt.getTime(), now.getTime() + options.refreshTokenTtlSeconds * 1000),
  );
  for (let start = from; start < to; start += BATCH) {
    const users = [];
    const emails = [];
    const sessions = [];
    const secrets = [];
    for (let i = start; i < Math.min(to, start + BATCH); i += 1) {
      const userId = new Types.ObjectId();
      const sessionId = randomUUID();
      const email = `user${i}@scale.example.com`;
      const secret = randomBytes(32).toString('base64url');
      users.push({
        _id: userId,
        email,
        passwordHash,
        name: null,
        roles: ['USER'],
        sessions: { [sessionId]: { createdAt: now, expiresAt: sessionExpiresAt } },
        createdAt: now,
        updatedAt: now,
        __v: 0,
      });
      emails.push({ _id: email, userId, createdAt: now });
      sessions.push({
        _id: sessionId,
        userId,
        createdAt: now,
        lastUsedAt: now,
        expiresAt,
        sessionExpiresAt,
        generation: 0,
        userAgent: 'scale-bench',
        ip: '127.0.0.1',
      });
      secrets.push({
        _id: `${sessionId}:0`,
        sessionId,
        generation: 0,
        secretHash: sha256(secret),
        expiresAt,
      });
      if (i % sampleEvery === 0) {
        sampled.push({
          email,
          userId: userId.toString(),
          sessionId,
          refreshToken: `${sessionId}.0.${secret}`,
          accessToken: options.accessTokens.sign({
            userId: userId.toString(),
            roles: ['USER'],
            sessionId,
            fresh: true,
          }).token,
        });
      }
    }
    // `lean`: no validation or hydration, the documents are written as built here.
    const bulk = { ordered: false, lean: true } as const;
    await Promise.all([
      User.insertMany(users, bulk),
      UserEmail.insertMany(emails, bulk),
      Session.insertMany(sessions, bulk),
      RefreshSecret.insertMany(secrets, bulk),
    ]);
  }
  return sampled;
}

/** One request; its latency in ms, or NaN when it failed. */
async function timed(
  url: string,
  query: string,
  variables: Record<string, unknown> | undefined,
  token: string | undefined,
  check: (text: string) => boolean,
): Promise<{ ms: number; text: string }> {
  const started = performance.now();
  const { status, text } = await postGraphQL(url, query, variables, token);
  const ms = performance.now() - started;
  return { ms: status === 200 && check(text) ? ms : NaN, text };
}

async function measureOperation(
  options: ScaleOptions,
  operation: ScaleOperation,
  sample: Sampled[],
): Promise<OperationLatency> {
  const latencies: number[] = [];
  let failed = 0;
  // Logins add sessions to their users, so they use users of their own: the others keep one
  // session each, and `sessions` reads the same amount at every size.
  const pool = sample.filter((_, i) => (i % 2 === 1) === (operation === 'login'));
  for (let i = 0; i < options.samples; i += 1) {
    const who = pool[Math.floor(Math.random() * pool.length)] as Sampled;
    let result: { ms: number; text: string };
    switch (operation) {
      case 'me':
        result = await timed(options.graphqlUrl, ME, undefined, who.accessToken, (t) =>
          t.includes(who.userId),
        );
        break;
      case 'sessions':
        result = await timed(options.graphqlUrl, SESSIONS, undefined, who.accessToken, (t) =>
          t.includes(who.sessionId),
        );
        break;
      case 'refreshToken': {
        result = await timed(options.graphqlUrl, REFRESH, { t: who.refreshToken }, undefined, (t) =>
          t.startsWith('{"data":{"refreshToken":'),
        );
        const next = /"refreshToken":"([^"]+)"/.exec(result.text)?.[1];
        if (next) who.refreshToken = next;
        break;
      }
      case 'login':
        result = await timed(
          options.graphqlUrl,
          LOGIN,
          { input: { email: who.email, password: PASSWORD } },
          undefined,
          (t) => t.startsWith('{"data":{"login":'),
        );
        break;
    }
    if (Number.isNaN(result.ms)) failed += 1;
    else latencies.push(result.ms);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed };
}

async function documentsOf(options: ScaleOptions, sessionId: string): Promise<number> {
  const { Session, RefreshSecret } = options.database.models;
  return (
    (await Session.countDocuments({ _id: sessionId })) +
    (await RefreshSecret.countDocuments({ sessionId }))
  );
}

async function rotations(options: ScaleOptions, who: Sampled, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const { text } = await postGraphQL(options.graphqlUrl, REFRESH, { t: who.refreshToken });
    const next = /"refreshToken":"([^"]+)"/.exec(text)?.[1];
    if (!next) throw new Error(`rotation failed: ${text.slice(0, 300)}`);
    who.refreshToken = next;
  }
}

/** Runs the scale scenario against an API process whose database is `options.database`. */
export async function runScaleScenario(options: ScaleOptions): Promise<ScaleResults> {
  const passwordHash = await bcrypt.hash(PASSWORD, options.bcryptCost);
  const steps: ScaleStep[] = [];
  const sample: Sampled[] = [];
  let filled = 0;
  let documentsPerSession = { after1: NaN, after100: NaN };
  for (const size of options.sizes) {
    const started = performance.now();
    // Spread the sample over the whole range, newest and oldest documents alike.
    const sampleEvery = Math.max(1, Math.floor(size / 200));
    sample.push(...(await fill(options, passwordHash, filled, size, sampleEvery)));
    filled = size;
    const fillSeconds = (performance.now() - started) / 1000;
    options.log(
      `scale: ${size.toLocaleString('en-US')} users filled in ${fillSeconds.toFixed(1)} s`,
    );

    if (steps.length === 0) {
      const who = sample.pop() as Sampled;
      await rotations(options, who, 1);
      const after1 = await documentsOf(options, who.sessionId);
      await rotations(options, who, 99);
      documentsPerSession = { after1, after100: await documentsOf(options, who.sessionId) };
    }
    const operations = {} as Record<ScaleOperation, OperationLatency>;
    for (const operation of SCALE_OPERATIONS) {
      operations[operation] = await measureOperation(options, operation, sample);
      options.fail(operations[operation].failed, `scale ${operation} at ${size}`);
    }
    options.log(
      `scale: ${size.toLocaleString('en-US')} users: ${SCALE_OPERATIONS.map((op) => `${op} p50 ${operations[op].p50.toFixed(1)} ms`).join(', ')}`,
    );
    steps.push({ users: size, fillSeconds, operations });
  }
  // At the largest size, last: its logins add sessions to the users they sign in.
  return {
    steps,
    documentsPerSession,
    bcryptCost: options.bcryptCost,
    samplesPerOperation: options.samples,
    readPath: await runReadPath({
      ...options.readServers,
      users: sample.slice(0, 64),
      password: PASSWORD,
      accessTokens: options.accessTokens,
      rounds: options.readRounds,
      seconds: options.readSeconds,
      dbPid: options.dbPid,
      log: (message) => options.log(message),
      fail: (count, what) => options.fail(count, what),
    }),
  };
}

const ms = (value: number): string => decimal(value, 1);

/** The scale scenario as markdown, for bench/RESULTS.md. */
export function renderScale(results: ScaleResults): string {
  const first = results.steps[0];
  const last = results.steps[results.steps.length - 1];
  const header = `| users in the database (one live session each) | fill (s) | ${SCALE_OPERATIONS.map((op) => `\`${op}\` p50 / p99 ms`).join(' | ')} |`;
  const rule = `| --- | ---: | ${SCALE_OPERATIONS.map(() => '---:').join(' | ')} |`;
  const rows = results.steps.map(
    (step) =>
      `| ${step.users.toLocaleString('en-US')} | ${step.fillSeconds.toFixed(1)} | ${SCALE_OPERATIONS.map((op) => `${ms(step.operations[op].p50)} / ${ms(step.operations[op].p99)}`).join(' | ')} |`,
  );
  const lines = [header, rule, ...rows];
  if (first && last && last !== first) {
    const p50Ratios = SCALE_OPERATIONS.map(
      (op) => last.operations[op].p50 / first.operations[op].p50,
    );
    lines.push(
      `| ${last.users.toLocaleString('en-US')} ÷ ${first.users.toLocaleString('en-US')} (p50; p99) | | ${SCALE_OPERATIONS.map((op, i) => `${decimal(p50Ratios[i] as number)}; ${decimal(last.operations[op].p99 / first.operations[op].p99)}`).join(' | ')} |`,
    );
    const worst = Math.max(...p50Ratios);
    lines.push(
      '',
      `Target: every operation's p50 at ${last.users.toLocaleString('en-US')} users within 1.5× its figure at ${first.users.toLocaleString('en-US')}: worst ratio ${decimal(worst)}, **${worst <= 1.5 ? 'met' : 'missed'}**.`,
    );
  }
  lines.push(
    '',
    `Sequential requests, ${results.samplesPerOperation} per operation and size, on random users of the filled range; \`login\` at bcrypt cost ${results.bcryptCost}, on users of its own (a login adds a session, and \`sessions\` reads one document per session).`,
    '',
    `Documents stored for one session (its session document and refresh-token secrets): ${results.documentsPerSession.after1} after 1 rotation, ${results.documentsPerSession.after100} after 100.`,
    '',
    renderReadPath(results.readPath, last?.users ?? 0),
  );
  return lines.join('\n');
}
