import { connectDatabase, type Database } from '../../src/db/database';
import { createServer } from '../../src/server';
import { createTokenPurge, type TokenPurge } from '../../src/sessions/tokenPurge';
import { secretId } from '../../src/sessions/refreshTokens';
import { ME, registerUser } from '../helpers/operations';
import { loginAgain, refresh, sessionIdOf } from '../helpers/sessions';
import { startTestServer, uniqueDbName, type TestServer } from '../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  // Strict reuse detection: the grace window has tests of its own (test/sessions/graceWindow.test.ts).
  api = await startTestServer({ env: { REFRESH_REUSE_GRACE: '0' } });
});

afterAll(async () => {
  await api.close();
});

const SILENT = { info: () => undefined, warn: () => undefined };

function purgeOf(database: Database, config = api.config): TokenPurge {
  return createTokenPurge({ models: database.models, jwt: config.jwt, logger: SILENT });
}

/** As of when every access token of a session whose refresh token expired now is gone too. */
function afterAccessTokens(from = Date.now()): Date {
  return new Date(
    from + (api.config.jwt.accessTokenTtl + api.config.jwt.clockToleranceSeconds + 61) * 1000,
  );
}

async function expireSession(sessionId: string): Promise<void> {
  const past = new Date(Date.now() - 1000);
  await api.database.models.Session.updateOne(
    { _id: sessionId },
    { $set: { expiresAt: past, sessionExpiresAt: past } },
  );
  await api.database.models.RefreshSecret.updateOne(
    { _id: secretId(sessionId, 0) },
    { $set: { expiresAt: past } },
  );
}

describe('purging ended sessions', () => {
  it('removes sessions that ended on their own once their access tokens have expired, and keeps live ones', async () => {
    const { Session, RefreshSecret, User } = api.database.models;
    const live = await registerUser(api);
    const ended = await loginAgain(api, live.user.email);
    const endedId = sessionIdOf(ended.accessToken);
    await expireSession(endedId);
    const purge = purgeOf(api.database);

    // Not yet: an access token issued just before the refresh token expired may still be in use.
    await purge.run();
    expect(await Session.exists({ _id: endedId })).not.toBeNull();

    const result = await purge.run(afterAccessTokens());
    expect(result.sessions).toBeGreaterThanOrEqual(1);
    expect(await Session.exists({ _id: endedId })).toBeNull();
    expect(await RefreshSecret.exists({ _id: secretId(endedId, 0) })).toBeNull();
    const user = await User.findById(live.user.id).lean();
    expect(Object.keys(user!.sessions)).toEqual([sessionIdOf(live.accessToken)]);
    expect((await refresh(api, live.refreshToken)).body.errors).toBeUndefined();
  });

  it('keeps the previous secrets of a live session until they expire, so reuse is still caught', async () => {
    const session = await registerUser(api);
    const rotated = (await refresh(api, session.refreshToken)).body.data!.refreshToken;
    await purgeOf(api.database).run();
    const replay = await refresh(api, session.refreshToken);
    expect(replay.body.errors?.[0]?.extensions?.reason).toBe('INVALID_REFRESH_TOKEN');
    const successor = await refresh(api, rotated.refreshToken);
    expect(successor.body.errors?.[0]?.extensions?.reason).toBe('INVALID_REFRESH_TOKEN');
    expect((await api.gql(ME, {}, { token: rotated.accessToken })).body.data).toBeNull();
  });

  it('removes expired throttle hits and bucket states', async () => {
    const { RateLimitHit, RateLimitBucket } = api.database.models;
    const past = new Date(Date.now() - 1000);
    await RateLimitHit.create({ _id: 'ip:stale#0', bucket: 'ip:stale', at: past, expiresAt: past });
    await RateLimitBucket.create({ _id: 'ip:stale', next: 1, expiresAt: past });
    const result = await purgeOf(api.database).run();
    expect(result.throttle).toBeGreaterThanOrEqual(2);
    expect(await RateLimitHit.exists({ _id: 'ip:stale#0' })).toBeNull();
    expect(await RateLimitBucket.exists({ _id: 'ip:stale' })).toBeNull();
  });

  it('is safe to run from several instances at once', async () => {
    const { Session } = api.database.models;
    const sessions = await Promise.all([registerUser(api), registerUser(api), registerUser(api)]);
    for (const session of sessions) await expireSession(sessionIdOf(session.accessToken));
    const second = await connectDatabase(process.env.MONGODB_URI!, {
      dbName: api.database.connection.name,
    });
    try {
      const when = afterAccessTokens();
      const results = await Promise.all([
        purgeOf(api.database).run(when),
        purgeOf(second).run(when),
        purgeOf(api.database).run(when),
      ]);
      expect(results.reduce((sum, r) => sum + r.sessions, 0)).toBeGreaterThanOrEqual(3);
      expect(
        await Session.countDocuments({ userId: { $in: sessions.map((s) => s.user.id) } }),
      ).toBe(0);
    } finally {
      await second.close();
    }
  });
});

describe('the purge schedule', () => {
  const timers = () =>
    process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

  it('never keeps the process alive', async () => {
    const purge = purgeOf(api.database);
    const before = timers();
    purge.start();
    expect(timers()).toBe(before);
    await purge.stop();
  });

  it('runs only while the server runs: from listen to close', async () => {
    const dbName = uniqueDbName();
    const database = await connectDatabase(process.env.MONGODB_URI!, { dbName });
    const { RefreshSecret } = database.models;
    const insertExpired = async (): Promise<string> => {
      const id = `stale-${Math.random().toString(36).slice(2)}`;
      await RefreshSecret.create({
        _id: secretId(id, 0),
        sessionId: id,
        generation: 0,
        secretHash: 'x',
        expiresAt: new Date(Date.now() - 1000),
      });
      return secretId(id, 0);
    };
    const exists = async (id: string) => (await RefreshSecret.exists({ _id: id })) !== null;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    try {
      const server = await createServer(api.config, {
        database,
        logLevel: 'silent',
        tokenPurgeIntervalMs: 50,
      });
      const beforeListen = await insertExpired();
      await sleep(300);
      expect(await exists(beforeListen)).toBe(true);

      await server.listen(0, '127.0.0.1');
      const deadline = Date.now() + 5000;
      while ((await exists(beforeListen)) && Date.now() < deadline) await sleep(50);
      expect(await exists(beforeListen)).toBe(false);

      await server.close();
      const afterClose = await insertExpired();
      await sleep(300);
      expect(await exists(afterClose)).toBe(true);
    } finally {
      await database.connection.dropDatabase().catch(() => undefined);
      await database.close();
    }
  });
});
