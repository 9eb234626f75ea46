import { sessionIdOf } from '../helpers/sessions';
import {
  LOGIN,
  ME,
  REFRESH,
  registerUser,
  type AuthPayload,
  bodyPayload,
} from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';
import {
  accessTokenClaims,
  base64urlJson,
  forgeAccessToken,
  forgeJws,
  hmacSigner,
} from '../helpers/tokens';
import { TEST_JWT_SECRET } from '../helpers/testServer';

let api: TestServer;
let session: AuthPayload;

beforeAll(async () => {
  api = await startTestServer();
  session = await registerUser(api);
});

afterAll(async () => {
  await api.close();
});

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return accessTokenClaims({
    sub: session.user.id,
    sid: sessionIdOf(session.accessToken),
    fresh: true,
    exp: now + 600,
    ...overrides,
  });
}

function withoutExp(): Record<string, unknown> {
  const rest = claims();
  delete rest.exp;
  return rest;
}

function sign(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
  secret?: string,
): string {
  return forgeAccessToken(payload, { header, secret });
}

describe('bearer tokens on a guarded field', () => {
  it('answers MISSING_TOKEN without an Authorization header, and names the field', async () => {
    const response = await api.gql(ME);
    expect(response.status).toBe(200);
    expect(response.body.data).toBeNull();
    expect(response.body.errors?.[0]).toMatchObject({
      path: ['me'],
      extensions: { code: 'UNAUTHENTICATED', reason: 'MISSING_TOKEN' },
    });
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it('accepts a lower-case bearer scheme (RFC 6750 schemes are case-insensitive)', async () => {
    const response = await api.gql(
      ME,
      {},
      { headers: { authorization: `bearer ${session.accessToken}` } },
    );
    expect(response.body.errors).toBeUndefined();
  });

  const now = (): number => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => string, string]> = [
    ['garbage', () => 'not.a.jwt', 'INVALID_TOKEN'],
    ['an empty token', () => '', 'INVALID_TOKEN'],
    ['the refresh token', () => session.refreshToken, 'INVALID_TOKEN'],
    [
      'an expired token',
      () => sign(claims({ iat: now() - 7200, exp: now() - 3600 })),
      'TOKEN_EXPIRED',
    ],
    [
      'a tampered payload with the original signature',
      () => {
        const [header, , signature] = session.accessToken.split('.');
        return `${header}.${base64urlJson(claims({ roles: ['ADMIN'] }))}.${signature}`;
      },
      'INVALID_TOKEN',
    ],
    [
      'alg none',
      () => `${base64urlJson({ alg: 'none', typ: 'at+jwt' })}.${base64urlJson(claims())}.`,
      'INVALID_TOKEN',
    ],
    ['a wrong issuer', () => sign(claims({ iss: 'someone-else' })), 'INVALID_TOKEN'],
    ['a wrong audience', () => sign(claims({ aud: 'another-api' })), 'INVALID_TOKEN'],
    ['a wrong typ header', () => sign(claims(), { typ: 'JWT' }), 'INVALID_TOKEN'],
    ['no exp claim', () => sign(withoutExp()), 'INVALID_TOKEN'],
    ['another secret', () => sign(claims(), {}, 'x'.repeat(48)), 'INVALID_TOKEN'],
    [
      'HS384 with our secret',
      () =>
        forgeJws({ alg: 'HS384', typ: 'at+jwt' }, claims(), hmacSigner('sha384', TEST_JWT_SECRET)),
      'INVALID_TOKEN',
    ],
    ['an unknown role', () => sign(claims({ roles: ['ROOT'] })), 'INVALID_TOKEN'],
  ];

  it.each(cases.map(([name, token, reason]) => ({ name, token, reason })))(
    'rejects $name with UNAUTHENTICATED/$reason and a WWW-Authenticate challenge',
    async ({ token, reason }) => {
      const response = await api.gql(ME, {}, { token: token() });
      expect(response.status).toBe(200);
      expect(response.body.data).toBeNull();
      expect(response.body.errors?.[0]).toMatchObject({
        path: ['me'],
        extensions: { code: 'UNAUTHENTICATED', reason },
      });
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    },
  );

  it('accepts a token we signed ourselves with valid claims (the forgery cases differ only in one thing)', async () => {
    const response = await api.gql(ME, {}, { token: sign(claims()) });
    expect(response.body.errors).toBeUndefined();
  });
});

describe('bearer tokens on public fields', () => {
  it('lets an expired bearer token through to refreshToken', async () => {
    const expired = sign(
      claims({
        iat: Math.floor(Date.now() / 1000) - 7200,
        exp: Math.floor(Date.now() / 1000) - 3600,
      }),
    );
    const response = await api.gql(
      REFRESH,
      { refreshToken: session.refreshToken },
      { token: expired },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.refreshToken.user.id).toBe(session.user.id);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    session = bodyPayload(response.body.data!.refreshToken);
  });

  it('lets a garbage bearer token through to login', async () => {
    const response = await api.gql(
      LOGIN,
      { input: { email: session.user.email, password: 'correct horse battery staple' } },
      { token: 'garbage' },
    );
    expect(response.body.errors).toBeUndefined();
  });
});

describe('caching', () => {
  it('forbids caches to keep any answer: tokens, personal data and errors alike', async () => {
    const answers = [
      await api.gql(LOGIN, {
        input: { email: session.user.email, password: 'correct horse battery staple' },
      }),
      await api.gql(ME, {}, { token: session.accessToken }),
      await api.gql(ME),
    ];
    for (const response of answers) {
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });
});
