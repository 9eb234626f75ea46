import { firstError, LOGOUT, ME, registerUser } from '../helpers/operations';
import {
  LOGOUT_ALL,
  loginAgain,
  refresh,
  REVOKE_SESSION,
  SESSIONS,
  sessionIdOf,
  type SessionView,
} from '../helpers/sessions';
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  // Strict reuse detection: the grace window has tests of its own (test/sessions/graceWindow.test.ts).
  api = await startTestServer({ env: { REFRESH_REUSE_GRACE: '0' } });
});

afterAll(async () => {
  await api.close();
});

async function sessionsOf(token: string): Promise<SessionView[]> {
  const response = await api.gql(SESSIONS, {}, { token });
  expect(response.body.errors).toBeUndefined();
  return response.body.data!.sessions;
}

function expectUnauthenticated(response: GraphQLResponse, field: string, reason: string): void {
  expect(response.status).toBe(200);
  expect(response.body.data).toBeNull();
  expect(firstError(response)).toMatchObject({
    path: [field],
    extensions: { code: 'UNAUTHENTICATED', reason },
  });
}

function expectRefreshRefused(response: GraphQLResponse): void {
  expect(firstError(response).extensions).toEqual({
    code: 'UNAUTHENTICATED',
    reason: 'INVALID_REFRESH_TOKEN',
  });
}

describe('sessions', () => {
  it('lists each signed-in device once, marks the caller’s and shows where it came from', async () => {
    const laptop = await registerUser(api);
    const phone = await loginAgain(api, laptop.user.email, { userAgent: 'PhoneApp/1.0' });
    const rotated = (await refresh(api, laptop.refreshToken)).body.data!.refreshToken;

    const sessions = await sessionsOf(phone.accessToken);
    expect(sessions.map((s) => s.id).sort()).toEqual(
      [sessionIdOf(laptop.accessToken), sessionIdOf(phone.accessToken)].sort(),
    );
    const mine = sessions.find((s) => s.current)!;
    expect(mine).toMatchObject({
      id: sessionIdOf(phone.accessToken),
      userAgent: 'PhoneApp/1.0',
      ip: '127.0.0.1',
      expiresAt: phone.refreshTokenExpiresAt,
    });
    expect(sessions.filter((s) => s.current)).toHaveLength(1);

    const laptopSession = sessions.find((s) => !s.current)!;
    expect(laptopSession.expiresAt).toBe(rotated.refreshTokenExpiresAt);
    expect(Date.parse(laptopSession.lastUsedAt)).toBeGreaterThan(
      Date.parse(laptopSession.createdAt),
    );
    // Most recently used first: the laptop refreshed after the phone signed in.
    expect(sessions[0]!.id).toBe(laptopSession.id);
  });

  it('never shows another user’s sessions', async () => {
    const alice = await registerUser(api);
    const bob = await registerUser(api);
    const ids = (await sessionsOf(alice.accessToken)).map((s) => s.id);
    expect(ids).toEqual([sessionIdOf(alice.accessToken)]);
    expect(ids).not.toContain(sessionIdOf(bob.accessToken));
  });

  it('leaves out sessions that were logged out', async () => {
    const first = await registerUser(api);
    const second = await loginAgain(api, first.user.email);
    await api.gql(LOGOUT, { refreshToken: first.refreshToken });
    expect((await sessionsOf(second.accessToken)).map((s) => s.id)).toEqual([
      sessionIdOf(second.accessToken),
    ]);
  });

  it('needs a signed-in caller', async () => {
    expectUnauthenticated(await api.gql(SESSIONS), 'sessions', 'MISSING_TOKEN');
  });
});

describe('access tokens of revoked sessions', () => {
  it('stop working for me once the session is logged out, while other sessions keep working', async () => {
    const first = await registerUser(api);
    const second = await loginAgain(api, first.user.email);
    await api.gql(LOGOUT, { refreshToken: first.refreshToken });

    expectUnauthenticated(
      await api.gql(ME, {}, { token: first.accessToken }),
      'me',
      'INVALID_TOKEN',
    );
    expect((await api.gql(ME, {}, { token: second.accessToken })).body.errors).toBeUndefined();
  });

  it('stop working once reuse of the session’s refresh token is detected', async () => {
    const session = await registerUser(api);
    const rotated = (await refresh(api, session.refreshToken)).body.data!.refreshToken;
    expectRefreshRefused(await refresh(api, session.refreshToken));
    expectUnauthenticated(
      await api.gql(ME, {}, { token: rotated.accessToken }),
      'me',
      'INVALID_TOKEN',
    );
  });
});

describe('logoutAll', () => {
  it('revokes every session of the caller, the current one included, and counts them', async () => {
    const first = await registerUser(api);
    const second = await loginAgain(api, first.user.email);
    const third = await loginAgain(api, first.user.email);
    const bystander = await registerUser(api);

    const response = await api.gql(LOGOUT_ALL, {}, { token: second.accessToken });
    expect(response.body).toEqual({ data: { logoutAll: 3 } });

    for (const session of [first, second, third]) {
      expectRefreshRefused(await refresh(api, session.refreshToken));
      expectUnauthenticated(
        await api.gql(ME, {}, { token: session.accessToken }),
        'me',
        'INVALID_TOKEN',
      );
    }
    expect((await refresh(api, bystander.refreshToken)).body.errors).toBeUndefined();
  });

  it('does not count sessions that had already ended', async () => {
    const first = await registerUser(api);
    const second = await loginAgain(api, first.user.email);
    await api.gql(LOGOUT, { refreshToken: first.refreshToken });
    const response = await api.gql(LOGOUT_ALL, {}, { token: second.accessToken });
    expect(response.body).toEqual({ data: { logoutAll: 1 } });
  });

  it('lets the user sign in again afterwards', async () => {
    const session = await registerUser(api);
    await api.gql(LOGOUT_ALL, {}, { token: session.accessToken });
    const again = await loginAgain(api, session.user.email);
    expect((await api.gql(ME, {}, { token: again.accessToken })).body.errors).toBeUndefined();
  });

  it('needs a signed-in caller', async () => {
    expectUnauthenticated(await api.gql(LOGOUT_ALL), 'logoutAll', 'MISSING_TOKEN');
  });
});

describe('revokeSession', () => {
  async function revoke(token: string, id: string) {
    return api.gql(REVOKE_SESSION, { id }, { token });
  }

  it('revokes another session of the caller and leaves the current one alone', async () => {
    const laptop = await registerUser(api);
    const phone = await loginAgain(api, laptop.user.email);

    const response = await revoke(laptop.accessToken, sessionIdOf(phone.accessToken));
    expect(response.body).toEqual({ data: { revokeSession: true } });
    expectRefreshRefused(await refresh(api, phone.refreshToken));
    expectUnauthenticated(
      await api.gql(ME, {}, { token: phone.accessToken }),
      'me',
      'INVALID_TOKEN',
    );

    expect((await api.gql(ME, {}, { token: laptop.accessToken })).body.errors).toBeUndefined();
    expect((await refresh(api, laptop.refreshToken)).body.errors).toBeUndefined();
  });

  it('revokes the caller’s own current session', async () => {
    const session = await registerUser(api);
    const response = await revoke(session.accessToken, sessionIdOf(session.accessToken));
    expect(response.body).toEqual({ data: { revokeSession: true } });
    expectRefreshRefused(await refresh(api, session.refreshToken));
  });

  it('answers false for someone else’s session id and changes nothing of theirs', async () => {
    const attacker = await registerUser(api);
    const victim = await registerUser(api);
    const victimSessionId = sessionIdOf(victim.accessToken);

    const response = await revoke(attacker.accessToken, victimSessionId);
    expect(response.body).toEqual({ data: { revokeSession: false } });

    expect(await api.database.models.Session.exists({ _id: victimSessionId })).not.toBeNull();
    expect((await api.gql(ME, {}, { token: victim.accessToken })).body.errors).toBeUndefined();
    expect((await refresh(api, victim.refreshToken)).body.errors).toBeUndefined();
    // The attacker's own session is unaffected as well.
    expect((await api.gql(ME, {}, { token: attacker.accessToken })).body.errors).toBeUndefined();
  });

  it.each([
    ['an unknown id', '00000000-0000-4000-8000-000000000000'],
    ['garbage', 'not a session'],
  ])('answers false for %s', async (_name, id) => {
    const session = await registerUser(api);
    expect((await revoke(session.accessToken, id)).body).toEqual({
      data: { revokeSession: false },
    });
  });

  it('answers false for a session that was already revoked', async () => {
    const laptop = await registerUser(api);
    const phone = await loginAgain(api, laptop.user.email);
    const id = sessionIdOf(phone.accessToken);
    await revoke(laptop.accessToken, id);
    expect((await revoke(laptop.accessToken, id)).body).toEqual({
      data: { revokeSession: false },
    });
  });

  it('needs a signed-in caller', async () => {
    const response = await api.gql(REVOKE_SESSION, { id: 'x' });
    expectUnauthenticated(response, 'revokeSession', 'MISSING_TOKEN');
  });
});
