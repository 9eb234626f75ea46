import { createAuthClient } from '../../client/authClient';
import { AuthClientError } from '../../client/authClientError';
import { MeDocument } from '../../client/generated/graphql';
import type { FetchLike } from '../../client/postGraphQL';
import { CookieJar, CSRF_COOKIE, REFRESH_COOKIE } from '../helpers/cookies';
import { accessTokenExpiryMs, sleep } from '../helpers/expiry';
import { GOOD_PASSWORD, REFRESH, firstError, uniqueEmail } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

let api: TestServer;
const jar = new CookieJar();
const sent: Array<{ operation: string; credentials?: string; headers: Record<string, string> }> =
  [];

/** What a browser does for the client: keeps the API's cookies, and shows script the readable ones. */
const browserFetch: FetchLike = async (url, init) => {
  const headers = { ...(init.headers as Record<string, string>) };
  const body = JSON.parse(typeof init.body === 'string' ? init.body : '{}') as {
    operationName?: string;
  };
  sent.push({ operation: body.operationName ?? '', credentials: init.credentials, headers });
  if (init.credentials === 'include' && jar.header() !== '') headers.cookie = jar.header();
  const response = await fetch(url, { ...init, headers });
  jar.store(response.headers);
  return response;
};

const fakeDocument = {
  get cookie(): string {
    const csrf = jar.get(CSRF_COOKIE);
    return csrf === undefined ? '' : `${CSRF_COOKIE}=${csrf}`;
  },
  set cookie(line: string) {
    if (line.startsWith(`${CSRF_COOKIE}=;`)) jar.values.delete(CSRF_COOKIE);
  },
};

beforeAll(async () => {
  api = await startTestServer({ env: { ACCESS_TOKEN_TTL: '1s', REFRESH_TOKEN_COOKIE: 'true' } });
  (globalThis as { document?: unknown }).document = fakeDocument;
});

afterAll(async () => {
  delete (globalThis as { document?: unknown }).document;
  await api.close();
});

function cookieClient() {
  return createAuthClient({
    url: `${api.url}/graphql`,
    fetch: browserFetch,
    refreshTokenIn: 'cookie',
  });
}

describe("createAuthClient({ refreshTokenIn: 'cookie' })", () => {
  it('signs up with credentials included and keeps no refresh token of its own', async () => {
    const client = cookieClient();
    expect(client.isSignedIn()).toBe(false);
    const user = await client.register({
      email: uniqueEmail('cookie-client'),
      password: GOOD_PASSWORD,
    });
    expect(user.email).toContain('cookie-client');
    expect(client.isSignedIn()).toBe(true);
    expect(sent.at(-1)).toMatchObject({ operation: 'Register', credentials: 'include' });
    expect(jar.get(REFRESH_COOKIE)).toMatch(/\.0\./);
    expect((await client.request(MeDocument)).me.email).toBe(user.email);
  });

  it('refreshes once from the cookie, with the CSRF header, for several calls at once', async () => {
    const client = cookieClient();
    // A reload: only the cookies are left, and the first call refreshes silently.
    expect(client.isSignedIn()).toBe(true);
    await Promise.all([client.request(MeDocument), client.request(MeDocument)]);
    const refreshes = sent.filter((request) => request.operation === 'RefreshToken');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.headers['X-CSRF-Token']).toBe(jar.get(CSRF_COOKIE));

    await sleep(accessTokenExpiryMs(api.config));
    const before = jar.get(REFRESH_COOKIE);
    await Promise.all([client.request(MeDocument), client.request(MeDocument)]);
    expect(sent.filter((request) => request.operation === 'RefreshToken')).toHaveLength(2);
    expect(jar.get(REFRESH_COOKIE)).not.toBe(before);
  });

  it('logs out through the cookie: both cookies gone and the session revoked', async () => {
    const client = cookieClient();
    await client.request(MeDocument);
    const token = jar.get(REFRESH_COOKIE)!;
    expect(await client.logout()).toBe(true);
    expect(client.isSignedIn()).toBe(false);
    expect(jar.values.size).toBe(0);
    const reused = await api.gql(REFRESH, { refreshToken: token });
    expect(firstError(reused).extensions?.reason).toBe('INVALID_REFRESH_TOKEN');
    const error = await client.request(MeDocument).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(AuthClientError);
  });

  it('tells a body-mode client that the API keeps the token in a cookie', async () => {
    const client = createAuthClient({ url: `${api.url}/graphql` });
    const error = await client
      .register({ email: uniqueEmail('body-client'), password: GOOD_PASSWORD })
      .catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'BAD_RESPONSE' });
    expect((error as Error).message).toContain("refreshTokenIn: 'cookie'");
  });
});
