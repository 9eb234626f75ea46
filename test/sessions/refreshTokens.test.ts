import {
  createRefreshTokenStore,
  hashRefreshToken,
  secretId,
} from '../../src/sessions/refreshTokens';
import {
  firstError,
  LOGOUT,
  ME,
  REFRESH,
  registerUser,
  tokenClaims,
  type AuthPayload,
} from '../helpers/operations';
import { loginAgain } from '../helpers/sessions';
import { startTestServer, type TestServer } from '../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  // Strict reuse detection: the grace window has tests of its own (test/sessions/graceWindow.test.ts).
  api = await startTestServer({ env: { REFRESH_REUSE_GRACE: '0' } });
});

afterAll(async () => {
  await api.close();
});

async function refresh(token: string) {
  return api.gql(REFRESH, { refreshToken: token });
}

function expectInvalidRefreshToken(response: Awaited<ReturnType<typeof refresh>>): void {
  expect(response.status).toBe(200);
  expect(response.body.data).toBeNull();
  expect(firstError(response)).toMatchObject({
    path: ['refreshToken'],
    extensions: { code: 'UNAUTHENTICATED', reason: 'INVALID_REFRESH_TOKEN' },
  });
}

describe('refreshToken', () => {
  it('rotates: returns a new pair, the new refresh token works and the old one is dead', async () => {
    const session = await registerUser(api);
    const first = await refresh(session.refreshToken);
    expect(first.body.errors).toBeUndefined();
    const rotated = first.body.data!.refreshToken;
    expect(rotated.refreshToken).not.toBe(session.refreshToken);
    expect(rotated.accessToken).not.toBe(session.accessToken);
    expect(rotated.user.id).toBe(session.user.id);

    const me = await api.gql(ME, {}, { token: rotated.accessToken });
    expect(me.body.errors).toBeUndefined();

    expectInvalidRefreshToken(await refresh(session.refreshToken));
  });

  it('names its session and stores only the SHA-256 hash of its secret', async () => {
    const session = await registerUser(api);
    const [sessionId, generation, secret] = session.refreshToken.split('.');
    expect(sessionId).toBe(tokenClaims(session.accessToken).sid);
    expect(generation).toBe('0');
    const stored = await api.database.models.RefreshSecret.findById(secretId(sessionId!, 0)).lean();
    expect(stored?.secretHash).toBe(hashRefreshToken(secret!));
    expect(JSON.stringify(stored)).not.toContain(secret);
  });

  it('issues refresh-derived access tokens that are not fresh', async () => {
    const session = await registerUser(api);
    const rotated = (await refresh(session.refreshToken)).body.data!.refreshToken;
    const payloadOf = tokenClaims;
    expect(payloadOf(session.accessToken).fresh).toBe(true);
    expect(payloadOf(rotated.accessToken).fresh).toBe(false);
    expect(payloadOf(rotated.accessToken).sid).toBe(payloadOf(session.accessToken).sid);
  });

  it.each([
    ['an unknown token', 'A'.repeat(43)],
    ['garbage', 'not a token'],
    ['an empty string', ''],
    ['an access token', 'eyJhbGciOiJIUzI1NiJ9.e30.sig'],
  ])('refuses %s with INVALID_REFRESH_TOKEN', async (_name, token) => {
    expectInvalidRefreshToken(await refresh(token));
  });

  it('revokes the whole session when an already-rotated token is presented again', async () => {
    const session = await registerUser(api);
    const rotated = (await refresh(session.refreshToken)).body.data!.refreshToken;
    expectInvalidRefreshToken(await refresh(session.refreshToken));
    // The legitimate successor dies with its family.
    expectInvalidRefreshToken(await refresh(rotated.refreshToken!));
  });

  it('lets at most one of 10 concurrent refreshes of one token yield a working successor', async () => {
    const session = await registerUser(api);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => refresh(session.refreshToken)),
    );
    for (const response of responses) expect(response.status).toBe(200);
    const successors = responses
      .map((response) => response.body.data?.refreshToken.refreshToken)
      .filter((token): token is string => Boolean(token));
    expect(successors.length).toBeLessThanOrEqual(1);
    const working = [];
    for (const token of successors) {
      const next = await refresh(token);
      if (next.body.data) working.push(next);
    }
    expect(working.length).toBeLessThanOrEqual(1);
  });
});

describe('logout', () => {
  it('revokes the session of the token and answers true, also when repeated', async () => {
    const session = await registerUser(api);
    const first = await api.gql(LOGOUT, { refreshToken: session.refreshToken });
    expect(first.body).toEqual({ data: { logout: true } });
    expectInvalidRefreshToken(await refresh(session.refreshToken));
    const again = await api.gql(LOGOUT, { refreshToken: session.refreshToken });
    expect(again.body).toEqual({ data: { logout: true } });
  });

  it('answers true for a token that never existed', async () => {
    const response = await api.gql(LOGOUT, { refreshToken: 'B'.repeat(43) });
    expect(response.body).toEqual({ data: { logout: true } });
  });

  it('leaves the user’s other sessions alone', async () => {
    const session = await registerUser(api);
    const other = (await refresh(session.refreshToken)).body.data!.refreshToken;
    const secondDevice = await api.gql<{ login: AuthPayload }>(
      `mutation($input: LoginInput!) { login(input: $input) { refreshToken } }`,
      { input: { email: session.user.email, password: 'correct horse battery staple' } },
    );
    await api.gql(LOGOUT, { refreshToken: other.refreshToken! });
    const stillWorks = await refresh(secondDevice.body.data!.login.refreshToken);
    expect(stillWorks.body.errors).toBeUndefined();
  });
});

describe('the absolute session lifetime', () => {
  let shortLived: TestServer;

  beforeAll(async () => {
    shortLived = await startTestServer({ env: { SESSION_MAX_AGE: '2s' } });
  });

  afterAll(async () => {
    await shortLived.close();
  });

  it('caps refreshTokenExpiresAt at SESSION_MAX_AGE and ends the session then, however often it refreshes', async () => {
    const before = Date.now();
    const session = await registerUser(shortLived);
    const deadline = Date.parse(session.refreshTokenExpiresAt);
    expect(deadline).toBeGreaterThan(before);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 2000);

    const rotated = await shortLived.gql(REFRESH, {
      refreshToken: session.refreshToken,
    });
    expect(rotated.body.errors).toBeUndefined();
    const successor = rotated.body.data!.refreshToken;
    // Rotation does not move the deadline: it belongs to the session, not to the token.
    expect(successor.refreshTokenExpiresAt).toBe(session.refreshTokenExpiresAt);

    await new Promise((resolve) => setTimeout(resolve, deadline - Date.now() + 100));
    const late = await shortLived.gql(REFRESH, { refreshToken: successor.refreshToken! });
    expect(firstError(late)).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED', reason: 'INVALID_REFRESH_TOKEN' },
    });
  });

  it('gives a new sign-in a new deadline', async () => {
    const session = await registerUser(shortLived);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const again = await loginAgain(shortLived, session.user.email);
    const next = await shortLived.gql(REFRESH, { refreshToken: again.refreshToken });
    expect(next.body.errors).toBeUndefined();
  });
});

describe('reuse detection as a security event', () => {
  it('reports refresh_token_reuse_detected with user and session, never the token', async () => {
    const events: Array<Record<string, unknown>> = [];
    const { config, database } = api;
    const store = createRefreshTokenStore({
      config,
      models: database.models,
      audit: (event, fields) => events.push({ event, ...fields }),
    });
    const session = await registerUser(api);
    const client = { ip: '203.0.113.7', userAgent: 'replayer' };
    const next = await store.rotate(session.refreshToken, client);
    expect(events).toEqual([]);

    await expect(store.rotate(session.refreshToken, client)).rejects.toMatchObject({
      extensions: { code: 'UNAUTHENTICATED', reason: 'INVALID_REFRESH_TOKEN' },
    });
    expect(events).toEqual([
      {
        event: 'refresh_token_reuse_detected',
        userId: session.user.id,
        sessionId: next.sessionId,
        ip: '203.0.113.7',
        userAgent: 'replayer',
      },
    ]);
    const logged = JSON.stringify(events);
    const nextSecret = next.token.split('.')[2]!;
    for (const secret of [session.refreshToken, next.token, hashRefreshToken(nextSecret)]) {
      expect(logged).not.toContain(secret);
    }
    // The successor died with its family.
    await expect(store.rotate(next.token, client)).rejects.toMatchObject({
      extensions: { reason: 'INVALID_REFRESH_TOKEN' },
    });
  });
});
