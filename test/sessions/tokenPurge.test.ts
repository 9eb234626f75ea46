import { connectDatabase, type Database } from '../../src/db/database';
import { createServer } from '../../src/server';
import { createRevokedSessionList } from '../../src/sessions/revokedSessions';
import {
  createTokenPurge,
  REVOKED_TOKEN_RETENTION_MS,
  type TokenPurge,
} from '../../src/sessions/tokenPurge';
import { LOGOUT, ME, registerUser } from '../helpers/operations';
import { loginAgain, refresh, sessionIdOf } from '../helpers/sessions';
import { startTestServer, uniqueDbName, type TestServer } from '../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer();
});

afterAll(async () => {
  await api.close();
});

const SILENT = { info: () => undefined, warn: () => undefined };

function purgeOf(database: Database, config = api.config): TokenPurge {
  return createTokenPurge({
    models: database.models,
    revokedSessions: createRevokedSessionList(config.jwt, database.models),
    logger: SILENT,
  });
}

function tokensOfSession(accessToken: string) {
  return api.database.models.RefreshToken.find({ familyId: sessionIdOf(accessToken) }).lean();
}

describe('purging stale refresh tokens', () => {
  it('removes expired and long-revoked tokens, and keeps live, used-but-unexpired and recently revoked ones', async () => {
    const { RefreshToken } = api.database.models;
    const active = await registerUser(api);
    const rotated = (await refresh(api, active.refreshToken)).body.data!.refreshToken;
    const loggedOut = await loginAgain(api, active.user.email);
    await api.gql(LOGOUT, { refreshToken: loggedOut.refreshToken });
    const expired = await loginAgain(api, active.user.email);
    await RefreshToken.updateMany(
      { familyId: sessionIdOf(expired.accessToken) },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    const revokedLongAgo = await loginAgain(api, active.user.email);
    await api.gql(LOGOUT, { refreshToken: revokedLongAgo.refreshToken });
    await RefreshToken.updateMany(
      { familyId: sessionIdOf(revokedLongAgo.accessToken) },
      { $set: { revokedAt: new Date(Date.now() - REVOKED_TOKEN_RETENTION_MS - 1000) } },
    );

    const result = await purgeOf(api.database).run();
    expect(result.tokens).toBeGreaterThanOrEqual(2);

    expect(await tokensOfSession(expired.accessToken)).toEqual([]);
    expect(await tokensOfSession(revokedLongAgo.accessToken)).toEqual([]);
    // The active session keeps its used token too: presenting it again must still be caught.
    expect(await tokensOfSession(active.accessToken)).toHaveLength(2);
    expect(await tokensOfSession(loggedOut.accessToken)).toHaveLength(1);

    const replay = await refresh(api, active.refreshToken);
    expect(replay.body.errors?.[0]?.extensions?.reason).toBe('INVALID_REFRESH_TOKEN');
    expect((await refresh(api, rotated.refreshToken)).body.errors?.[0]?.extensions?.reason).toBe(
      'INVALID_REFRESH_TOKEN',
    );
  });

  it('removes revoked tokens once the retention has passed', async () => {
    const session = await registerUser(api);
    await api.gql(LOGOUT, { refreshToken: session.refreshToken });
    const purge = purgeOf(api.database);
    await purge.run();
    expect(await tokensOfSession(session.accessToken)).toHaveLength(1);
    await purge.run(new Date(Date.now() + REVOKED_TOKEN_RETENTION_MS + 1000));
    expect(await tokensOfSession(session.accessToken)).toEqual([]);
  });

  it('forgets revoked sessions once their access tokens have expired, and not before', async () => {
    const { User } = api.database.models;
    const session = await registerUser(api);
    const other = await loginAgain(api, session.user.email);
    await api.gql(LOGOUT, { refreshToken: session.refreshToken });
    const purge = purgeOf(api.database);

    await purge.run();
    const listed = await User.findById(session.user.id).lean();
    expect(listed?.revokedSessions.map((entry) => entry.sessionId)).toEqual([
      sessionIdOf(session.accessToken),
    ]);
    expect((await api.gql(ME, {}, { token: session.accessToken })).body.data).toBeNull();

    const afterAccessTokenTtl = new Date(Date.now() + (api.config.jwt.accessTokenTtl + 120) * 1000);
    const result = await purge.run(afterAccessTokenTtl);
    expect(result.users).toBeGreaterThanOrEqual(1);
    expect((await User.findById(session.user.id).lean())?.revokedSessions).toEqual([]);
    expect((await api.gql(ME, {}, { token: other.accessToken })).body.errors).toBeUndefined();
  });

  it('is safe to run from several instances at once', async () => {
    const { RefreshToken } = api.database.models;
    const sessions = await Promise.all([registerUser(api), registerUser(api), registerUser(api)]);
    await RefreshToken.updateMany(
      { userId: { $in: sessions.map((s) => s.user.id) } },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    const second = await connectDatabase(process.env.MONGODB_URI!, {
      dbName: api.database.connection.name,
    });
    try {
      const results = await Promise.all([
        purgeOf(api.database).run(),
        purgeOf(second).run(),
        purgeOf(api.database).run(),
      ]);
      expect(results.reduce((sum, r) => sum + r.tokens, 0)).toBeGreaterThanOrEqual(3);
      expect(
        await RefreshToken.countDocuments({ userId: { $in: sessions.map((s) => s.user.id) } }),
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
    const { RefreshToken } = database.models;
    const insertExpired = async (): Promise<string> => {
      const familyId = `stale-${Math.random().toString(36).slice(2)}`;
      await RefreshToken.create({
        tokenHash: familyId,
        rotatedFrom: `session:${familyId}`,
        familyId,
        userId: '0123456789abcdef01234567',
        expiresAt: new Date(Date.now() - 1000),
        sessionExpiresAt: new Date(Date.now() - 1000),
        sessionCreatedAt: new Date(Date.now() - 5000),
      });
      return familyId;
    };
    const exists = async (familyId: string) => (await RefreshToken.exists({ familyId })) !== null;
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
