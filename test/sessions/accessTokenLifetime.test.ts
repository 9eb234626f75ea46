import { GOOD_PASSWORD, registerUser, tokenClaims, type AuthPayload } from '../helpers/operations';
import { loginAgain, refresh, sessionIdOf } from '../helpers/sessions';
import { startTestServer, type TestServer } from '../helpers/testServer';

/** The absolute end of an access token's session, in whole seconds since the epoch. */
async function sessionEndOf(api: TestServer, accessToken: string): Promise<number> {
  const session = await api.database.models.Session.findById(sessionIdOf(accessToken)).lean();
  if (!session) throw new Error('no session document for this token');
  return Math.floor(session.sessionExpiresAt.getTime() / 1000);
}

function expectWithinSession(payload: AuthPayload, sessionEnd: number): void {
  const { iat, exp } = tokenClaims(payload.accessToken) as { iat: number; exp: number };
  expect(exp).toBeLessThanOrEqual(sessionEnd);
  expect(payload.expiresIn).toBe(exp - iat);
}

describe('an access token of a session that ends before ACCESS_TOKEN_TTL is over', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({ env: { ACCESS_TOKEN_TTL: '15m', SESSION_MAX_AGE: '60s' } });
  });

  afterAll(async () => {
    await api.close();
  });

  it('expires with its session when issued by register and login', async () => {
    const registered = await registerUser(api);
    expectWithinSession(registered, await sessionEndOf(api, registered.accessToken));
    expect(registered.expiresIn).toBeLessThanOrEqual(60);

    const loggedIn = await loginAgain(api, registered.user.email, { password: GOOD_PASSWORD });
    expectWithinSession(loggedIn, await sessionEndOf(api, loggedIn.accessToken));
    expect(loggedIn.expiresIn).toBeLessThanOrEqual(60);
  });

  it('expires with its session when issued by refreshToken', async () => {
    const session = await registerUser(api);
    const rotated = (await refresh(api, session.refreshToken)).body.data!.refreshToken;
    expectWithinSession(rotated, await sessionEndOf(api, rotated.accessToken));
    expect(rotated.expiresIn).toBeLessThanOrEqual(60);
  });
});

describe('an access token of a session that outlasts it', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({ env: { ACCESS_TOKEN_TTL: '15m' } });
  });

  afterAll(async () => {
    await api.close();
  });

  it('lives ACCESS_TOKEN_TTL', async () => {
    const session = await registerUser(api);
    const { iat, exp } = tokenClaims(session.accessToken) as { iat: number; exp: number };
    expect(exp - iat).toBe(900);
    expect(session.expiresIn).toBe(900);
  });
});
