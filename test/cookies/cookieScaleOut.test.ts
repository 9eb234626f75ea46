import { CookieJar, cookieGql, REFRESH_COOKIE } from '../helpers/cookies';
import {
  databaseUri,
  killApiProcesses,
  startApiProcess,
  type ApiProcess,
} from '../helpers/apiProcess';
import {
  firstError,
  GOOD_PASSWORD,
  ME,
  REFRESH,
  REGISTER,
  uniqueEmail,
} from '../helpers/operations';
import { uniqueDbName } from '../helpers/testServer';

jest.setTimeout(90_000);

const APP_ORIGIN = 'https://app.example.test';
let east: ApiProcess;
let west: ApiProcess;

beforeAll(async () => {
  const env = {
    MONGODB_URI: databaseUri(uniqueDbName()),
    REFRESH_TOKEN_COOKIE: 'true',
    CORS_ORIGINS: APP_ORIGIN,
    REFRESH_REUSE_GRACE: '2s',
    AUTH_IP_LIMIT: '0',
  };
  [east, west] = await Promise.all([startApiProcess({ env }), startApiProcess({ env })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([east?.stop(), west?.stop()]);
  await killApiProcesses();
});

async function signUp(): Promise<CookieJar> {
  const jar = new CookieJar();
  const response = await cookieGql(
    east.url,
    REGISTER,
    { input: { email: uniqueEmail('scale'), password: GOOD_PASSWORD } },
    { jar, origin: APP_ORIGIN },
  );
  expect(response.body.errors).toBeUndefined();
  return jar;
}

describe('cookie mode across two API processes', () => {
  it('gives concurrent refreshes of one cookie on both processes the same successor', async () => {
    const jar = await signUp();
    const copies = Array.from({ length: 6 }, () => jar.copy());
    const responses = await Promise.all(
      copies.map((copy, i) =>
        cookieGql((i % 2 ? east : west).url, REFRESH, {}, { jar: copy, origin: APP_ORIGIN }),
      ),
    );
    for (const response of responses) expect(response.body.errors).toBeUndefined();
    const successors = new Set(copies.map((copy) => copy.get(REFRESH_COOKIE)));
    expect(successors.size).toBe(1);
    expect([...successors][0]).toMatch(/\.1\./);

    // The one successor works on either process; the access tokens do too.
    const next = await cookieGql(west.url, REFRESH, {}, { jar: copies[0]!, origin: APP_ORIGIN });
    expect(next.body.errors).toBeUndefined();
    for (const response of responses) {
      const token = response.body.data!.refreshToken.accessToken;
      expect((await east.gql(ME, {}, { token })).body.errors).toBeUndefined();
    }
  });

  it('revokes the session when the old cookie comes back to the other process after the window', async () => {
    const jar = await signUp();
    const stale = jar.copy();
    expect((await cookieGql(east.url, REFRESH, {}, { jar, origin: APP_ORIGIN })).body.errors).toBe(
      undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const replay = await cookieGql(west.url, REFRESH, {}, { jar: stale, origin: APP_ORIGIN });
    expect(firstError(replay).extensions?.reason).toBe('INVALID_REFRESH_TOKEN');
    const successor = await cookieGql(east.url, REFRESH, {}, { jar, origin: APP_ORIGIN });
    expect(firstError(successor).extensions?.reason).toBe('INVALID_REFRESH_TOKEN');
  });

  it('refuses a foreign Origin on either process', async () => {
    const jar = await signUp();
    for (const api of [east, west]) {
      const response = await cookieGql(
        api.url,
        REFRESH,
        {},
        {
          jar,
          keep: true,
          origin: 'https://evil.example.test',
        },
      );
      expect(firstError(response).extensions?.reason).toBe('CSRF_CHECK_FAILED');
    }
  });
});
