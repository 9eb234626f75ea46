import { randomBytes, randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import bcrypt from 'bcrypt';
import { hashRefreshToken } from '../../src/sessions/refreshTokens';
import { migrateLegacyStorage } from '../../src/sessions/legacyMigration';
import { firstError, GOOD_PASSWORD, LOGIN, ME, uniqueEmail } from '../helpers/operations';
import { refresh, SESSIONS } from '../helpers/sessions';
import { startTestServer, type TestServer } from '../helpers/testServer';
import { accessTokenClaims, forgeAccessToken } from '../helpers/tokens';

let api: TestServer;

beforeAll(async () => {
  // Strict reuse detection: the grace window has tests of its own (test/sessions/graceWindow.test.ts).
  api = await startTestServer({ env: { REFRESH_REUSE_GRACE: '0' } });
});

afterAll(async () => {
  await api.close();
});

const HOUR = 3_600_000;

/** A user and refresh tokens exactly as the version with one document per token stored them. */
async function seedLegacyAccount() {
  const { User, LegacyRefreshToken } = api.database.models;
  const userId = new Types.ObjectId();
  const email = uniqueEmail('legacy');
  const now = Date.now();
  await User.collection.insertOne({
    _id: userId,
    email,
    passwordHash: await bcrypt.hash(GOOD_PASSWORD, 4),
    name: null,
    roles: ['USER'],
    revokedSessions: [{ sessionId: 'long-gone', until: new Date(now + HOUR) }],
    createdAt: new Date(now - 10 * HOUR),
    updatedAt: new Date(now - 10 * HOUR),
    __v: 0,
  });
  const token = () => randomBytes(32).toString('base64url');
  const family = (familyId: string) => ({
    familyId,
    userId,
    sessionExpiresAt: new Date(now + 24 * HOUR),
    sessionCreatedAt: new Date(now - 2 * HOUR),
    userAgent: 'OldApp/1.0',
    ip: '203.0.113.5',
  });
  const liveId = randomUUID();
  const used = token();
  const tip = token();
  const revokedId = randomUUID();
  const revokedTip = token();
  await LegacyRefreshToken.collection.insertMany([
    {
      ...family(liveId),
      tokenHash: hashRefreshToken(used),
      rotatedFrom: `session:${liveId}`,
      expiresAt: new Date(now + HOUR),
      usedAt: new Date(now - HOUR),
      revokedAt: null,
      revokedReason: null,
      createdAt: new Date(now - 2 * HOUR),
    },
    {
      ...family(liveId),
      tokenHash: hashRefreshToken(tip),
      rotatedFrom: hashRefreshToken(used),
      expiresAt: new Date(now + 2 * HOUR),
      usedAt: null,
      revokedAt: null,
      revokedReason: null,
      createdAt: new Date(now - HOUR),
    },
    {
      ...family(revokedId),
      tokenHash: hashRefreshToken(revokedTip),
      rotatedFrom: `session:${revokedId}`,
      expiresAt: new Date(now + 2 * HOUR),
      usedAt: null,
      revokedAt: new Date(now - HOUR),
      revokedReason: 'logout',
      createdAt: new Date(now - HOUR),
    },
  ]);
  const accessTokenFor = (sid: string) =>
    forgeAccessToken(accessTokenClaims({ sub: userId.toString(), sid, fresh: true }));
  return { userId, email, liveId, used, tip, revokedId, revokedTip, accessTokenFor };
}

describe('npm run cli -- migrate (migrateLegacyStorage)', () => {
  it('is needed: before it, accounts and tokens of the old storage are not found', async () => {
    const old = await seedLegacyAccount();
    const login = await api.gql(LOGIN, { input: { email: old.email, password: GOOD_PASSWORD } });
    expect(firstError(login).extensions?.reason).toBe('INVALID_CREDENTIALS');
    expect(firstError(await refresh(api, old.tip)).extensions?.reason).toBe(
      'INVALID_REFRESH_TOKEN',
    );
  });

  it('keeps old accounts, live sessions, their refresh and access tokens and reuse detection working', async () => {
    const old = await seedLegacyAccount();
    await api.database.models.User.collection
      .createIndex({ email: 1 }, { unique: true })
      .catch(() => undefined);
    const report = await migrateLegacyStorage(api.database.models);
    expect(report.emailConflicts).toEqual([]);
    expect(report.sessions).toBeGreaterThanOrEqual(1);

    // The account signs in by email.
    const login = await api.gql(LOGIN, { input: { email: old.email, password: GOOD_PASSWORD } });
    expect(login.body.data?.login.user.id).toBe(old.userId.toString());

    // An access token issued before the migration still works; one of a revoked session does not.
    const before = old.accessTokenFor(old.liveId);
    expect((await api.gql(ME, {}, { token: before })).body.data?.me.id).toBe(old.userId.toString());
    expect(
      firstError(await api.gql(ME, {}, { token: old.accessTokenFor(old.revokedId) })).extensions
        ?.reason,
    ).toBe('INVALID_TOKEN');
    const listed = (await api.gql(SESSIONS, {}, { token: before })).body.data!.sessions;
    expect(listed.find((s) => s.id === old.liveId)).toMatchObject({
      userAgent: 'OldApp/1.0',
      current: true,
    });

    // The old refresh token rotates into one of the current format, in the same session.
    const rotated = await refresh(api, old.tip);
    expect(rotated.body.errors).toBeUndefined();
    const next = rotated.body.data!.refreshToken;
    expect(next.refreshToken.startsWith(`${old.liveId}.1.`)).toBe(true);
    expect((await refresh(api, old.revokedTip)).body.errors?.[0]?.extensions?.reason).toBe(
      'INVALID_REFRESH_TOKEN',
    );

    // An old token that had already been exchanged is reuse: the session ends.
    expect(firstError(await refresh(api, old.used)).extensions?.reason).toBe(
      'INVALID_REFRESH_TOKEN',
    );
    expect(firstError(await refresh(api, next.refreshToken)).extensions?.reason).toBe(
      'INVALID_REFRESH_TOKEN',
    );
    expect(firstError(await api.gql(ME, {}, { token: before })).extensions?.reason).toBe(
      'INVALID_TOKEN',
    );

    // The old documents and indexes are gone.
    const { User, LegacyRefreshToken } = api.database.models;
    expect(await LegacyRefreshToken.countDocuments({ userId: old.userId })).toBe(0);
    const stored = await User.collection.findOne({ _id: old.userId });
    expect(stored).not.toHaveProperty('revokedSessions');
    const indexes = await User.collection.indexes();
    expect(indexes.map((index) => index.name)).not.toContain('email_1');
  });

  it('can run again without bringing back a session that ended since', async () => {
    const old = await seedLegacyAccount();
    await migrateLegacyStorage(api.database.models);
    const token = old.accessTokenFor(old.liveId);
    await api.gql(SESSIONS, {}, { token });
    const rotated = (await refresh(api, old.tip)).body.data!.refreshToken;
    await refresh(api, old.tip); // reuse: the session ends

    const again = await migrateLegacyStorage(api.database.models);
    expect(again).toMatchObject({ emails: 0, sessions: 0, legacyTokensRemoved: 0 });
    expect(firstError(await api.gql(ME, {}, { token })).extensions?.reason).toBe('INVALID_TOKEN');
    expect(firstError(await refresh(api, rotated.refreshToken)).extensions?.reason).toBe(
      'INVALID_REFRESH_TOKEN',
    );
  });
});
