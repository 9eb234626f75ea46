import { connectDatabase, type Database } from '../../src/db/database';
import { PREVIOUS_SECRETS_KEPT } from '../../src/sessions/refreshTokens';
import {
  databaseUri,
  killApiProcesses,
  startApiProcess,
  type ApiProcess,
} from '../helpers/apiProcess';
import {
  firstError,
  GOOD_PASSWORD,
  LOGIN,
  ME,
  REFRESH,
  REGISTER,
  registerUser,
  uniqueEmail,
  type AuthPayload,
  bodyPayload,
} from '../helpers/operations';
import { LOGOUT_ALL, SESSIONS, sessionIdOf } from '../helpers/sessions';
import { uniqueDbName } from '../helpers/testServer';

// Two API processes on one database, as two instances of a deployment (docs/data-model.md).
const dbName = uniqueDbName();
let east: ApiProcess;
let west: ApiProcess;
let database: Database;

beforeAll(async () => {
  // Throttles off: the sign-ins below are one account's, concurrently, on purpose.
  // Strict reuse detection: the grace window across processes is in test/cookies/.
  const env = {
    MONGODB_URI: databaseUri(dbName),
    AUTH_IP_LIMIT: '0',
    LOGIN_MAX_FAILURES: '100',
    REFRESH_REUSE_GRACE: '0',
  };
  [east, west] = await Promise.all([startApiProcess({ env }), startApiProcess({ env })]);
  database = await connectDatabase(process.env.MONGODB_URI!, { dbName });
}, 60_000);

afterAll(async () => {
  await Promise.all([east?.stop(), west?.stop()]);
  await killApiProcesses();
  await database?.connection.dropDatabase().catch(() => undefined);
  await database?.close();
});

async function documentsOfSession(sessionId: string): Promise<number> {
  const { Session, RefreshSecret } = database.models;
  return (
    (await Session.countDocuments({ _id: sessionId })) +
    (await RefreshSecret.countDocuments({ sessionId }))
  );
}

async function rotate(api: ApiProcess, token: string): Promise<AuthPayload> {
  const response = await api.gql(REFRESH, { refreshToken: token });
  if (!response.body.data) throw new Error(JSON.stringify(response.body.errors));
  return bodyPayload(response.body.data.refreshToken);
}

describe('storage per session', () => {
  it('stays the same however often a session refreshes: 100 rotations on alternating instances', async () => {
    const session = await registerUser(east);
    const sessionId = sessionIdOf(session.accessToken);
    let token = session.refreshToken;
    const counts: number[] = [];
    for (let i = 1; i <= 100; i += 1) {
      token = (await rotate(i % 2 ? east : west, token)).refreshToken;
      if (i === 10 || i === 100) counts.push(await documentsOfSession(sessionId));
    }
    // The session document and the newest secret plus the previous ones kept for reuse detection.
    expect(counts).toEqual([2 + PREVIOUS_SECRETS_KEPT, 2 + PREVIOUS_SECRETS_KEPT]);
    const user = await database.models.User.findById(session.user.id).lean();
    expect(Object.keys(user!.sessions)).toEqual([sessionId]);
  }, 120_000);
});

describe('concurrency across two API processes', () => {
  it('lets at most one of 10 concurrent rotations of one token, spread over both, yield a working successor', async () => {
    const session = await registerUser(west);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? east : west).gql(REFRESH, { refreshToken: session.refreshToken }),
      ),
    );
    const successors = responses
      .map((response) => response.body.data?.refreshToken.refreshToken)
      .filter((token): token is string => Boolean(token));
    expect(successors.length).toBeLessThanOrEqual(1);
    let working = 0;
    for (const token of successors) {
      if ((await east.gql(REFRESH, { refreshToken: token })).body.data) working += 1;
    }
    expect(working).toBeLessThanOrEqual(1);
  });

  it('lets exactly one of concurrent registrations of one address, spread over both, succeed', async () => {
    const email = uniqueEmail('race');
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? east : west).gql(REGISTER, {
          input: { email: i % 3 ? email : email.toUpperCase(), password: GOOD_PASSWORD },
        }),
      ),
    );
    const winners = responses.filter((response) => response.body.data?.register);
    expect(winners).toHaveLength(1);
    for (const loser of responses.filter((response) => !response.body.data?.register)) {
      expect(firstError(loser).extensions).toMatchObject({ reason: 'EMAIL_TAKEN' });
    }
    expect(await database.models.UserEmail.countDocuments({ _id: email })).toBe(1);
  });

  it('ends every session of concurrent sign-ins on both when logoutAll runs on one', async () => {
    const registered = await registerUser(east);
    const { user } = registered;
    const logins = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? east : west).gql(LOGIN, { input: { email: user.email, password: GOOD_PASSWORD } }),
      ),
    );
    const sessions = logins.map((response) => {
      if (!response.body.data) {
        // The servers' own account of a failure, which the client only sees as a code.
        const failures = [east, west]
          .flatMap((api) => api.stdout().split('\n'))
          .filter((line) => /"level":(50|60)/.test(line));
        throw new Error(`${JSON.stringify(response.body.errors)}\n${failures.join('\n')}`);
      }
      return bodyPayload(response.body.data.login);
    });
    const listed = await west.gql(SESSIONS, {}, { token: sessions[0]!.accessToken });
    // A listing shows only sessions that were really started.
    const started = [registered, ...sessions].map((s) => sessionIdOf(s.accessToken));
    for (const shown of listed.body.data?.sessions ?? []) expect(started).toContain(shown.id);

    let caller: AuthPayload | undefined;
    for (const session of sessions) {
      if (!(await east.gql(ME, {}, { token: session.accessToken })).body.errors) caller = session;
    }
    await west.gql(LOGOUT_ALL, {}, { token: caller!.accessToken });
    for (const session of sessions) {
      for (const api of [east, west]) {
        expect(
          firstError(await api.gql(ME, {}, { token: session.accessToken })).extensions?.reason,
        ).toBe('INVALID_TOKEN');
      }
      expect(
        firstError(await east.gql(REFRESH, { refreshToken: session.refreshToken })).extensions
          ?.reason,
      ).toBe('INVALID_REFRESH_TOKEN');
    }
  });

  it('makes a revocation on one instance hold on the other at once', async () => {
    const session = await registerUser(east);
    expect((await west.gql(ME, {}, { token: session.accessToken })).body.errors).toBeUndefined();
    await east.gql(LOGOUT_ALL, {}, { token: session.accessToken });
    expect(firstError(await west.gql(ME, {}, { token: session.accessToken })).extensions).toEqual({
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_TOKEN',
    });
  });
});
