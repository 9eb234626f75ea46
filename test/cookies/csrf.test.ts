import { CookieJar, cookieGql, CSRF_COOKIE, REFRESH_COOKIE, setCookies } from '../helpers/cookies';
import {
  firstError,
  GOOD_PASSWORD,
  LOGOUT,
  ME,
  REFRESH,
  REGISTER,
  uniqueEmail,
} from '../helpers/operations';
import { sessionIdOf } from '../helpers/sessions';
import { startTestServer, type TestServer } from '../helpers/testServer';

const APP_ORIGIN = 'https://app.example.test';

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer({
    env: {
      REFRESH_TOKEN_COOKIE: 'true',
      CORS_ORIGINS: `${APP_ORIGIN},http://localhost:*`,
    },
  });
});

afterAll(async () => {
  await api.close();
});

async function signUp() {
  const jar = new CookieJar();
  const response = await cookieGql(
    api.url,
    REGISTER,
    { input: { email: uniqueEmail('csrf'), password: GOOD_PASSWORD } },
    { jar },
  );
  return { jar, payload: response.body.data!.register };
}

async function generationOf(accessToken: string): Promise<number | undefined> {
  const session = await api.database.models.Session.findById(sessionIdOf(accessToken)).lean();
  return session?.generation;
}

const REFUSALS: Array<[string, { csrf?: string | null; origin?: string }]> = [
  ['without the X-CSRF-Token header', { csrf: null }],
  ['with a CSRF token that is not the cookie’s', { csrf: 'A'.repeat(43) }],
  ['with a CSRF token of another length', { csrf: 'short' }],
  ['from a foreign Origin', { origin: 'https://evil.example.test' }],
  ['from another port of the same host that is not listed', { origin: 'http://127.0.0.1:9' }],
  ['from an opaque Origin (null)', { origin: 'null' }],
];

describe('CSRF defence of requests that rely on the refresh cookie', () => {
  it.each(REFUSALS)(
    'refuses a refresh %s with FORBIDDEN / CSRF_CHECK_FAILED and changes nothing',
    async (_name, options) => {
      const { jar, payload } = await signUp();
      const before = jar.copy();
      const response = await cookieGql(api.url, REFRESH, {}, { jar, keep: true, ...options });
      expect(response.body.data).toBeNull();
      expect(firstError(response)).toMatchObject({
        path: ['refreshToken'],
        extensions: { code: 'FORBIDDEN', reason: 'CSRF_CHECK_FAILED' },
      });
      expect(setCookies(response.headers)).toEqual([]);
      // Nothing rotated, nothing revoked: the same cookie still refreshes, once, from the app.
      expect(await generationOf(payload.accessToken)).toBe(0);
      const ok = await cookieGql(api.url, REFRESH, {}, { jar: before, origin: APP_ORIGIN });
      expect(ok.body.errors).toBeUndefined();
      expect(before.get(REFRESH_COOKIE)).toMatch(/\.1\./);
    },
  );

  it.each(REFUSALS)('refuses a logout %s and leaves the session live', async (_name, options) => {
    const { jar, payload } = await signUp();
    const response = await cookieGql(api.url, LOGOUT, {}, { jar, keep: true, ...options });
    expect(firstError(response).extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'CSRF_CHECK_FAILED',
    });
    expect(setCookies(response.headers)).toEqual([]);
    expect((await api.gql(ME, {}, { token: payload.accessToken })).body.errors).toBeUndefined();
    expect(await generationOf(payload.accessToken)).toBe(0);
  });

  it.each([
    ['a listed origin', APP_ORIGIN],
    ['a listed origin pattern', 'http://localhost:5173'],
    ['the API’s own origin', 'OWN'],
    ['no Origin at all (not a browser’s cross-origin request)', undefined],
  ])('accepts a refresh from %s with the right CSRF token', async (_name, origin) => {
    const { jar } = await signUp();
    const response = await cookieGql(
      api.url,
      REFRESH,
      {},
      {
        jar,
        origin: origin === 'OWN' ? api.url : origin,
      },
    );
    expect(response.body.errors).toBeUndefined();
    expect(jar.get(REFRESH_COOKIE)).toMatch(/\.1\./);
  });

  it('needs no CSRF token when the refresh token comes as the argument', async () => {
    const { jar } = await signUp();
    const response = await cookieGql(
      api.url,
      REFRESH,
      { refreshToken: jar.get(REFRESH_COOKIE)! },
      { jar: new CookieJar(), origin: 'https://evil.example.test' },
    );
    expect(response.body.errors).toBeUndefined();
  });

  it('is not fooled by a CSRF header matching a cookie the browser does not have', async () => {
    const { jar } = await signUp();
    jar.values.delete(CSRF_COOKIE);
    const response = await cookieGql(api.url, REFRESH, {}, { jar, csrf: 'x'.repeat(43) });
    expect(firstError(response).extensions?.reason).toBe('CSRF_CHECK_FAILED');
  });

  it('leaves Apollo’s csrfPrevention on: a form-encoded POST never runs', async () => {
    const { jar } = await signUp();
    const response = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain',
        cookie: jar.header(),
        origin: 'https://evil.example.test',
      },
      body: JSON.stringify({ query: 'mutation { logout }' }),
    });
    expect(response.status).toBe(400);
    expect(setCookies(response.headers)).toEqual([]);
  });
});
