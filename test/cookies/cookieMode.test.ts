import {
  CookieJar,
  cookieGql,
  CSRF_COOKIE,
  REFRESH_COOKIE,
  setCookie,
  setCookies,
} from '../helpers/cookies';
import {
  firstError,
  GOOD_PASSWORD,
  LOGIN,
  LOGOUT,
  ME,
  REFRESH,
  REGISTER,
  uniqueEmail,
} from '../helpers/operations';
import {
  CHANGE_PASSWORD,
  DELETE_ACCOUNT,
  LOGOUT_ALL,
  REVOKE_SESSION,
  sessionIdOf,
} from '../helpers/sessions';
import { startTestServer, type TestServer } from '../helpers/testServer';

const APP_ORIGIN = 'https://app.example.test';

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer({
    env: { REFRESH_TOKEN_COOKIE: 'true', CORS_ORIGINS: APP_ORIGIN, REFRESH_TOKEN_TTL: '7d' },
  });
});

afterAll(async () => {
  await api.close();
});

/** Registers through cookie mode; the jar then holds what a browser would. */
async function signUp(jar = new CookieJar()) {
  const email = uniqueEmail('cookie');
  const response = await cookieGql(
    api.url,
    REGISTER,
    { input: { email, password: GOOD_PASSWORD } },
    { jar, origin: APP_ORIGIN },
  );
  expect(response.body.errors).toBeUndefined();
  return { jar, email, payload: response.body.data!.register };
}

function refreshWith(jar: CookieJar, options: { keep?: boolean } = {}) {
  return cookieGql(api.url, REFRESH, {}, { jar, origin: APP_ORIGIN, ...options });
}

function expectCleared(headers: Headers): void {
  for (const name of [REFRESH_COOKIE, CSRF_COOKIE]) {
    expect(setCookie(headers, name)).toMatchObject({
      value: '',
      attributes: { 'max-age': '0', path: '/', secure: true },
    });
  }
}

describe('cookie mode: handing out the refresh token', () => {
  it('sets the refresh token as an HttpOnly __Host- cookie and leaves it out of the body', async () => {
    const jar = new CookieJar();
    const response = await cookieGql(
      api.url,
      REGISTER,
      { input: { email: uniqueEmail('cookie'), password: GOOD_PASSWORD } },
      { jar },
    );
    const payload = response.body.data!.register;
    expect(payload.refreshToken).toBeNull();

    const refresh = setCookie(response.headers, REFRESH_COOKIE)!;
    expect(refresh.value).toMatch(/^[0-9a-f-]{36}\.0\.[A-Za-z0-9_-]{43}$/);
    expect(refresh.attributes).toMatchObject({
      httponly: true,
      secure: true,
      samesite: 'Strict',
      path: '/',
    });
    expect(refresh.attributes.domain).toBeUndefined();
    // Max-Age is the token's remaining life.
    const remaining = (Date.parse(payload.refreshTokenExpiresAt) - Date.now()) / 1000;
    expect(Number(refresh.attributes['max-age'])).toBeGreaterThan(remaining - 5);
    expect(Number(refresh.attributes['max-age'])).toBeLessThanOrEqual(Math.ceil(remaining));
    expect(Number(refresh.attributes['max-age'])).toBeGreaterThan(7 * 86400 - 60);
  });

  it('sets a readable CSRF cookie next to it, with the same lifetime', async () => {
    const { jar } = await signUp();
    const response = await cookieGql(
      api.url,
      LOGIN,
      { input: { email: (await signUp()).email, password: GOOD_PASSWORD } },
      { jar: new CookieJar() },
    );
    const csrf = setCookie(response.headers, CSRF_COOKIE)!;
    const refresh = setCookie(response.headers, REFRESH_COOKIE)!;
    expect(csrf.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf.attributes.httponly).toBeUndefined();
    expect(csrf.attributes).toMatchObject({ secure: true, samesite: 'Strict', path: '/' });
    expect(csrf.attributes['max-age']).toBe(refresh.attributes['max-age']);
    expect(response.body.data!.login.refreshToken).toBeNull();
    // Every sign-in gets a CSRF token of its own.
    expect(csrf.value).not.toBe(jar.get(CSRF_COOKIE));
  });

  it('refreshes from the cookie: a new refresh cookie, a new access token, the same CSRF token', async () => {
    const { jar, payload } = await signUp();
    const before = { refresh: jar.get(REFRESH_COOKIE), csrf: jar.get(CSRF_COOKIE) };
    const response = await refreshWith(jar);
    expect(response.body.errors).toBeUndefined();
    const next = response.body.data!.refreshToken;
    expect(next.refreshToken).toBeNull();
    expect(next.accessToken).not.toBe(payload.accessToken);
    expect(sessionIdOf(next.accessToken)).toBe(sessionIdOf(payload.accessToken));
    expect(jar.get(REFRESH_COOKIE)).toMatch(/\.1\./);
    expect(jar.get(REFRESH_COOKIE)).not.toBe(before.refresh);
    expect(jar.get(CSRF_COOKIE)).toBe(before.csrf);
    expect(setCookie(response.headers, REFRESH_COOKIE)?.attributes.httponly).toBe(true);
  });

  it('survives a lost response: the retry with the old cookie gets the same successor', async () => {
    const { jar } = await signUp();
    // The answer, and so its Set-Cookie, never reaches the browser.
    const lost = await refreshWith(jar, { keep: true });
    expect(lost.body.errors).toBeUndefined();
    const lostCookie = setCookie(lost.headers, REFRESH_COOKIE)!.value;
    const retried = await refreshWith(jar);
    expect(retried.body.errors).toBeUndefined();
    expect(jar.get(REFRESH_COOKIE)).toBe(lostCookie);
    expect((await refreshWith(jar)).body.errors).toBeUndefined();
    expect(jar.get(REFRESH_COOKIE)).toMatch(/\.2\./);
  });

  it('still takes a refresh token as the argument, and answers with cookies', async () => {
    const { jar } = await signUp();
    const token = jar.get(REFRESH_COOKIE)!;
    const response = await cookieGql(
      api.url,
      REFRESH,
      { refreshToken: token },
      {
        jar: new CookieJar(),
      },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data!.refreshToken.refreshToken).toBeNull();
    expect(setCookie(response.headers, REFRESH_COOKIE)?.value).toMatch(/\.1\./);
  });

  it('refuses a refresh without argument or cookie as INVALID_REFRESH_TOKEN', async () => {
    const response = await cookieGql(api.url, REFRESH, {}, { jar: new CookieJar() });
    expect(firstError(response).extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_REFRESH_TOKEN',
    });
    expect(setCookies(response.headers)).toEqual([]);
  });

  it('sets new cookies on changePassword', async () => {
    const { jar, payload } = await signUp();
    const old = jar.copy();
    const response = await cookieGql(
      api.url,
      CHANGE_PASSWORD,
      { currentPassword: GOOD_PASSWORD, newPassword: 'another long passphrase 42' },
      { jar, token: payload.accessToken, csrf: null },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data!.changePassword.refreshToken).toBeNull();
    expect(jar.get(REFRESH_COOKIE)).toMatch(/\.0\./);
    expect(jar.get(REFRESH_COOKIE)).not.toBe(old.get(REFRESH_COOKIE));
    expect((await refreshWith(old)).body.errors?.[0]?.extensions?.reason).toBe(
      'INVALID_REFRESH_TOKEN',
    );
    expect((await refreshWith(jar)).body.errors).toBeUndefined();
  });
});

describe('cookie mode: ending sessions', () => {
  it('logs out with the cookie, clears both cookies and revokes the session', async () => {
    const { jar, payload } = await signUp();
    const old = jar.copy();
    const response = await cookieGql(api.url, LOGOUT, {}, { jar, origin: APP_ORIGIN });
    expect(response.body).toEqual({ data: { logout: true } });
    expectCleared(response.headers);
    expect(jar.values.size).toBe(0);
    expect(firstError(await refreshWith(old)).extensions?.reason).toBe('INVALID_REFRESH_TOKEN');
    expect(
      firstError(await api.gql(ME, {}, { token: payload.accessToken })).extensions?.reason,
    ).toBe('INVALID_TOKEN');
  });

  it('answers logout without any token with true, and clears the cookies', async () => {
    const response = await cookieGql(api.url, LOGOUT, {}, { jar: new CookieJar() });
    expect(response.body).toEqual({ data: { logout: true } });
    expectCleared(response.headers);
  });

  it('clears the cookies on logoutAll and deleteAccount', async () => {
    const first = await signUp();
    const all = await cookieGql(
      api.url,
      LOGOUT_ALL,
      {},
      {
        jar: first.jar,
        token: first.payload.accessToken,
      },
    );
    expect(all.body.data?.logoutAll).toBe(1);
    expectCleared(all.headers);

    const second = await signUp();
    const deleted = await cookieGql(
      api.url,
      DELETE_ACCOUNT,
      { password: GOOD_PASSWORD },
      {
        jar: second.jar,
        token: second.payload.accessToken,
      },
    );
    expect(deleted.body.data?.deleteAccount).toBe(true);
    expectCleared(deleted.headers);
  });

  it('clears the cookies when revokeSession ends the calling session, and only then', async () => {
    const { jar, email, payload } = await signUp();
    const other = await cookieGql(
      api.url,
      LOGIN,
      { input: { email, password: GOOD_PASSWORD } },
      { jar: new CookieJar() },
    );
    const otherId = sessionIdOf(other.body.data!.login.accessToken);
    const elsewhere = await cookieGql(
      api.url,
      REVOKE_SESSION,
      { id: otherId },
      {
        jar,
        token: payload.accessToken,
        keep: true,
      },
    );
    expect(elsewhere.body.data?.revokeSession).toBe(true);
    expect(setCookies(elsewhere.headers)).toEqual([]);

    const own = await cookieGql(
      api.url,
      REVOKE_SESSION,
      { id: sessionIdOf(payload.accessToken) },
      { jar, token: payload.accessToken },
    );
    expect(own.body.data?.revokeSession).toBe(true);
    expectCleared(own.headers);
  });
});

describe('cookie mode: CORS', () => {
  async function preflight(origin: string): Promise<Headers> {
    const response = await fetch(`${api.url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-csrf-token',
      },
    });
    return response.headers;
  }

  it('allows credentials and the CSRF header for a listed origin', async () => {
    const headers = await preflight(APP_ORIGIN);
    expect(headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(headers.get('access-control-allow-credentials')).toBe('true');
    expect(headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-csrf-token');
  });

  it('answers an unlisted origin without CORS headers or credentials', async () => {
    const headers = await preflight('https://evil.example.test');
    expect(headers.get('access-control-allow-origin')).toBeNull();
    expect(headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('body mode (the default)', () => {
  let bodyApi: TestServer;

  beforeAll(async () => {
    bodyApi = await startTestServer();
  });

  afterAll(async () => {
    await bodyApi.close();
  });

  it('sets no cookie, returns the refresh token in the body and ignores a refresh cookie', async () => {
    const jar = new CookieJar();
    const registered = await cookieGql(
      bodyApi.url,
      REGISTER,
      { input: { email: uniqueEmail('body'), password: GOOD_PASSWORD } },
      { jar },
    );
    const token = registered.body.data!.register.refreshToken!;
    expect(token).toMatch(/\.0\./);
    expect(setCookies(registered.headers)).toEqual([]);

    jar.values.set(REFRESH_COOKIE, token);
    jar.values.set(CSRF_COOKIE, 'x');
    const refreshed = await cookieGql(bodyApi.url, REFRESH, {}, { jar });
    expect(firstError(refreshed).extensions?.reason).toBe('INVALID_REFRESH_TOKEN');
    expect((await bodyApi.gql(REFRESH, { refreshToken: token })).body.errors).toBeUndefined();
  });

  it('answers CORS without credentials', async () => {
    const response = await fetch(`${bodyApi.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });
});
