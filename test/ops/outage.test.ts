import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EmbeddedDbEngine } from '../../src/config';
import type { EmbeddedDb } from '../../src/embedded/embeddedDb';
import { startEmbeddedDb } from '../../src/embedded/startEmbeddedDb';
import { freePort } from '../../src/embedded/waitForPort';
import { killApiProcesses, startApiProcess, type ApiProcess } from '../helpers/apiProcess';
import {
  GOOD_PASSWORD,
  LOGIN,
  ME,
  REFRESH,
  registerUser,
  type AuthPayload,
} from '../helpers/operations';

// Starting and stopping real processes takes seconds each on a busy machine.
jest.setTimeout(60_000);

// The same engine as the rest of the run, but a server of this file's own: it gets stopped.
const engine = (process.env.TEST_DB_ENGINE ?? 'auto') as EmbeddedDbEngine;

let dataDir: string;
let port: number;
let db: EmbeddedDb | undefined;
let api: ApiProcess;

async function startDatabase(): Promise<EmbeddedDb> {
  db = await startEmbeddedDb({ engine, port, dataDir, log: () => undefined });
  return db;
}

function startApi(): Promise<ApiProcess> {
  return startApiProcess({ env: { MONGODB_URI: `mongodb://127.0.0.1:${port}/outage` } });
}

async function readyStatus(): Promise<number> {
  return (await fetch(`${api.url}/ready`)).status;
}

async function waitForReady(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readyStatus()) !== 200) {
    if (Date.now() > deadline) throw new Error(`/ready still not 200 after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function login(email: string) {
  return api.gql(LOGIN, { input: { email, password: GOOD_PASSWORD } });
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gja-outage-'));
  port = await freePort();
  await startDatabase();
  api = await startApi();
}, 120_000);

afterAll(async () => {
  await killApiProcesses();
  await db?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('when the database goes away under a running API', () => {
  let user: AuthPayload;

  it('works normally first', async () => {
    user = await registerUser(api);
    expect(await readyStatus()).toBe(200);
  });

  it('fails requests quickly with a clean INTERNAL_SERVER_ERROR, reports /ready 503 and keeps running', async () => {
    await db!.stop();
    db = undefined;

    const started = Date.now();
    const response = await login(user.user.email);
    const elapsed = Date.now() - started;

    expect(elapsed).toBeLessThan(6000);
    expect(response.body.data).toBeNull();
    expect(response.body.errors).toEqual([
      {
        message: 'Internal server error.',
        locations: expect.any(Array) as unknown,
        path: ['login'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
    expect(JSON.stringify(response.body)).not.toMatch(/mongo|ECONN|topology|socket/i);

    expect(await readyStatus()).toBe(503);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    expect(api.child.exitCode).toBeNull();
    const me = await api.gql(ME, undefined, { token: user.accessToken });
    expect(me.body.errors?.[0]?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    // What needs no database keeps working: a bad token is still turned away precisely.
    const forged = await api.gql(ME, undefined, { token: 'not-a-jwt' });
    expect(forged.body.errors?.[0]?.extensions).toMatchObject({ reason: 'INVALID_TOKEN' });
  });

  it('recovers by itself when the database returns, with the data still there', async () => {
    await startDatabase();
    await waitForReady(15_000);
    const response = await login(user.user.email);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.login.user.id).toBe(user.user.id);
    expect(api.child.exitCode).toBeNull();
  });
});

describe('when the API restarts', () => {
  it('keeps access tokens and unused refresh tokens working, and used ones dead', async () => {
    const first = await registerUser(api);
    const rotated = await api.gql(REFRESH, {
      refreshToken: first.refreshToken,
    });
    const unused = rotated.body.data!.refreshToken;
    const other = await registerUser(api);

    expect(await api.stop('SIGTERM')).toBe(0);
    api = await startApi();

    const me = await api.gql(ME, undefined, { token: first.accessToken });
    expect(me.body.data?.me.id).toBe(first.user.id);

    const refreshed = await api.gql(REFRESH, {
      refreshToken: unused.refreshToken!,
    });
    expect(refreshed.body.data?.refreshToken.user.id).toBe(first.user.id);

    const replayed = await api.gql(REFRESH, { refreshToken: first.refreshToken });
    expect(replayed.body.errors?.[0]?.extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_REFRESH_TOKEN',
    });

    const untouched = await api.gql(REFRESH, {
      refreshToken: other.refreshToken,
    });
    expect(untouched.body.data?.refreshToken.user.id).toBe(other.user.id);
  });
});
