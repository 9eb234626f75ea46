import { sessionIdOf } from '../helpers/sessions';
import { sign } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  base64urlJson,
  ecdsaSigner,
  ecKeyPair,
  forgeJws,
  hmacSigner,
  jwsHeader,
  rsaKeyPair,
  rsaSigner,
  type Signer,
  type TestKeyPair,
} from '../helpers/tokens';
import { ME, registerUser, type AuthPayload } from '../helpers/operations';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/testServer';

type Algorithm = 'HS256' | 'ES256' | 'RS256';

/** What a forger knows about one server: its public material, and (for the tests) its key. */
interface Target {
  api: TestServer;
  session: AuthPayload;
  /** Signs exactly as the server does, so each case below differs from a valid token in one thing. */
  ours: Signer;
  /** The kid the server writes (absent with HS256). */
  kid: Record<string, unknown>;
  /** The PEM anyone can derive from the JWKS; undefined with HS256. */
  publicPem?: string;
  keys?: TestKeyPair;
}

interface ForgeryCase {
  name: string;
  token: (target: Target) => string;
  reason?: 'INVALID_TOKEN' | 'TOKEN_EXPIRED';
}

const now = (): number => Math.floor(Date.now() / 1000);

function claims(target: Target, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: target.session.user.id,
    roles: ['USER'],
    // The session the server really started: a guarded read requires it to be live.
    sid: sessionIdOf(target.session.accessToken),
    fresh: true,
    jti: 'forged',
    iss: 'graphql-jwt-auth',
    aud: 'graphql-jwt-auth',
    iat: now(),
    exp: now() + 600,
    ...overrides,
  };
}

function header(alg: string, target: Target, extra: Record<string, unknown> = {}) {
  return { alg, typ: 'at+jwt', ...target.kid, ...extra };
}

/** A token the server would accept, except for what the overrides change. */
function ours(
  target: Target,
  overrides: Record<string, unknown> = {},
  headerExtra: Record<string, unknown> = {},
): string {
  return forgeJws(
    header(target.api.config.jwt.algorithm, target, headerExtra),
    claims(target, overrides),
    target.ours,
  );
}

function withoutClaim(target: Target, name: string): Record<string, unknown> {
  const rest = claims(target);
  delete rest[name];
  return rest;
}

/** A signer with a key of the server's kind that the server has never seen. */
function foreignSigner(alg: Algorithm): Signer {
  if (alg === 'HS256') return hmacSigner('sha256', 'f'.repeat(48));
  if (alg === 'ES256') return ecdsaSigner('sha256', ecKeyPair().privateKey);
  return rsaSigner('sha256', rsaKeyPair().privateKey);
}

function segments(token: string): [string, string, string] {
  const [h, p, s] = token.split('.');
  return [h!, p!, s!];
}

// Answers any request and counts them: the server must never fetch a key URL from a token.
let keyUrlRequests = 0;
let keyUrlServer: Server;
let keyUrl: string;

beforeAll(async () => {
  keyUrlServer = createHttpServer((_request, response) => {
    keyUrlRequests += 1;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [] }));
  });
  await new Promise<void>((resolve) => keyUrlServer.listen(0, '127.0.0.1', resolve));
  keyUrl = `http://127.0.0.1:${(keyUrlServer.address() as AddressInfo).port}/jwks.json`;
});

afterAll(async () => {
  await new Promise((resolve) => keyUrlServer.close(resolve));
  expect(keyUrlRequests).toBe(0);
});

const COMMON_CASES: ForgeryCase[] = [
  ...['none', 'None', 'noNE', 'NONE'].map((alg): ForgeryCase => ({
    name: `alg "${alg}" without a signature`,
    token: (t) => forgeJws(header(alg, t), claims(t), null),
  })),
  {
    name: 'alg "none" carrying a real signature',
    token: (t) => {
      const [, p, s] = segments(t.session.accessToken);
      return `${base64urlJson(header('none', t))}.${p}.${s}`;
    },
  },
  {
    name: 'a tampered payload under the original signature',
    token: (t) => {
      const [h, , s] = segments(t.session.accessToken);
      return `${h}.${base64urlJson(claims(t, { roles: ['USER', 'ADMIN'] }))}.${s}`;
    },
  },
  {
    name: 'a header changed under the original signature',
    token: (t) => {
      const [, p, s] = segments(t.session.accessToken);
      const changed = { ...jwsHeader(t.session.accessToken), extra: 1 };
      return `${base64urlJson(changed)}.${p}.${s}`;
    },
  },
  { name: 'a wrong issuer', token: (t) => ours(t, { iss: 'https://evil.example' }) },
  { name: 'a wrong audience', token: (t) => ours(t, { aud: 'another-api' }) },
  { name: 'an audience list without ours', token: (t) => ours(t, { aud: ['a', 'b'] }) },
  { name: 'typ "JWT"', token: (t) => ours(t, {}, { typ: 'JWT' }) },
  { name: 'no typ', token: (t) => ours(t, {}, { typ: undefined }) },
  {
    name: 'no exp claim',
    token: (t) => forgeJws(header(t.api.config.jwt.algorithm, t), withoutClaim(t, 'exp'), t.ours),
  },
  { name: 'a non-numeric exp', token: (t) => ours(t, { exp: 'tomorrow' }) },
  { name: 'an nbf ten minutes ahead', token: (t) => ours(t, { nbf: now() + 600 }) },
  {
    name: 'an exp an hour ago',
    token: (t) => ours(t, { iat: now() - 7200, exp: now() - 3600 }),
    reason: 'TOKEN_EXPIRED',
  },
  {
    name: 'an exp just past the leeway',
    token: (t) => ours(t, { iat: now() - 900, exp: now() - 30 }),
    reason: 'TOKEN_EXPIRED',
  },
  {
    name: 'a signature by a foreign key of the same kind, with our kid',
    token: (t) =>
      forgeJws(
        header(t.api.config.jwt.algorithm, t),
        claims(t),
        foreignSigner(t.api.config.jwt.algorithm),
      ),
  },
  {
    name: 'a foreign key embedded in the header (jwk), with our kid',
    token: (t) => {
      const foreign = ecKeyPair();
      return forgeJws(
        header('ES256', t, { jwk: foreign.publicKey.export({ format: 'jwk' }) }),
        claims(t),
        ecdsaSigner('sha256', foreign.privateKey),
      );
    },
  },
  {
    name: 'key URLs in the header (jku, x5u) and a certificate chain (x5c)',
    token: (t) =>
      forgeJws(
        header(t.api.config.jwt.algorithm, t, {
          jku: keyUrl,
          x5u: keyUrl,
          x5c: ['MIIBszCCAVmgAwIBAgIUforged'],
        }),
        claims(t),
        foreignSigner(t.api.config.jwt.algorithm),
      ),
  },
  {
    name: 'the JWS JSON serialisation (flattened) of a valid token',
    token: (t) => {
      const [h, p, s] = segments(t.session.accessToken);
      return JSON.stringify({ protected: h, payload: p, signature: s });
    },
  },
  {
    name: 'the JWS JSON serialisation (general) of a valid token',
    token: (t) => {
      const [h, p, s] = segments(t.session.accessToken);
      return JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] });
    },
  },
  {
    name: 'two segments',
    token: (t) => t.session.accessToken.split('.').slice(0, 2).join('.'),
  },
  {
    name: 'two segments and an empty third',
    token: (t) => `${t.session.accessToken.split('.').slice(0, 2).join('.')}.`,
  },
  {
    name: 'four segments',
    token: (t) => `${t.session.accessToken}.${segments(t.session.accessToken)[2]}`,
  },
  {
    name: 'five segments (a JWE shape)',
    token: (t) => `${t.session.accessToken}.AAAA.BBBB`,
  },
  {
    name: 'standard base64 with padding instead of base64url',
    token: (t) => {
      const [h, p, s] = segments(t.session.accessToken);
      const b64 = (part: string) => Buffer.from(part, 'base64url').toString('base64');
      return `${b64(h)}.${b64(p)}.${b64(s)}`;
    },
  },
  {
    name: 'characters outside base64url in the signature',
    token: (t) => `${t.session.accessToken.slice(0, -2)}*!`,
  },
  {
    name: 'a header that is not JSON',
    token: (t) => {
      const [, p, s] = segments(t.session.accessToken);
      return `${Buffer.from('{"alg":').toString('base64url')}.${p}.${s}`;
    },
  },
  {
    name: 'a 100 KB token signed with our key',
    token: (t) => {
      // Base64url grows the claim by a third: 75 KiB of padding makes a token just over 100 KiB.
      const token = ours(t, { padding: 'A'.repeat(75 * 1024) });
      expect(token.length).toBeGreaterThan(100 * 1024);
      return token;
    },
  },
];

const HS256_CASES: ForgeryCase[] = [
  {
    name: 'HS384 with our secret',
    token: (t) => forgeJws(header('HS384', t), claims(t), hmacSigner('sha384', TEST_JWT_SECRET)),
  },
  {
    name: 'HS512 with our secret',
    token: (t) => forgeJws(header('HS512', t), claims(t), hmacSigner('sha512', TEST_JWT_SECRET)),
  },
  {
    name: 'ES256 with a key and kid of the forger',
    token: (t) => {
      const forger = ecKeyPair();
      return forgeJws(
        header('ES256', t, { kid: 'forger' }),
        claims(t),
        ecdsaSigner('sha256', forger.privateKey),
      );
    },
  },
  {
    name: 'RS256 signed with the HMAC secret',
    token: (t) => forgeJws(header('RS256', t), claims(t), hmacSigner('sha256', TEST_JWT_SECRET)),
  },
];

// Key confusion (RFC 8725 §2.1): the public key, which anyone can fetch, used as an HMAC secret.
const KEY_CONFUSION_CASES: ForgeryCase[] = [
  {
    name: 'HS256 signed with our public key PEM as the HMAC secret',
    token: (t) => forgeJws(header('HS256', t), claims(t), hmacSigner('sha256', t.publicPem!)),
  },
  {
    name: 'HS256 signed with our public key PEM without its final newline',
    token: (t) =>
      forgeJws(header('HS256', t), claims(t), hmacSigner('sha256', t.publicPem!.trimEnd())),
  },
  {
    name: 'HS256 signed with our public JWK (JSON) as the HMAC secret',
    token: (t) =>
      forgeJws(
        header('HS256', t),
        claims(t),
        hmacSigner('sha256', JSON.stringify(t.keys!.publicKey.export({ format: 'jwk' }))),
      ),
  },
  {
    name: 'no kid header',
    token: (t) => forgeJws({ alg: t.api.config.jwt.algorithm, typ: 'at+jwt' }, claims(t), t.ours),
  },
  { name: 'an unknown kid', token: (t) => ours(t, {}, { kid: 'unknown-key' }) },
  { name: 'a path as kid', token: (t) => ours(t, {}, { kid: '../../../dev/null' }) },
  { name: 'a numeric kid', token: (t) => ours(t, {}, { kid: 1 }) },
];

const ES256_CASES: ForgeryCase[] = [
  ...KEY_CONFUSION_CASES,
  {
    name: 'ES384 signed with our own key',
    token: (t) =>
      forgeJws(header('ES384', t), claims(t), ecdsaSigner('sha384', t.keys!.privateKey)),
  },
  {
    name: 'ES384 signed by a P-384 key with our kid',
    token: (t) =>
      forgeJws(header('ES384', t), claims(t), ecdsaSigner('sha384', ecKeyPair('P-384').privateKey)),
  },
  {
    name: 'an ES256 signature in DER rather than r||s',
    token: (t) =>
      forgeJws(header('ES256', t), claims(t), (input) =>
        sign('sha256', Buffer.from(input), t.keys!.privateKey),
      ),
  },
  {
    name: 'RS256 signed by a foreign RSA key with our kid',
    token: (t) =>
      forgeJws(header('RS256', t), claims(t), rsaSigner('sha256', rsaKeyPair().privateKey)),
  },
];

const RS256_CASES: ForgeryCase[] = [
  ...KEY_CONFUSION_CASES,
  {
    name: 'RS384 signed with our own key',
    token: (t) => forgeJws(header('RS384', t), claims(t), rsaSigner('sha384', t.keys!.privateKey)),
  },
  {
    name: 'RS512 signed with our own key',
    token: (t) => forgeJws(header('RS512', t), claims(t), rsaSigner('sha512', t.keys!.privateKey)),
  },
  {
    name: 'PS256 signed with our own key',
    token: (t) =>
      forgeJws(header('PS256', t), claims(t), rsaSigner('sha256', t.keys!.privateKey, true)),
  },
  {
    name: 'ES256 signed by a foreign EC key with our kid',
    token: (t) =>
      forgeJws(header('ES256', t), claims(t), ecdsaSigner('sha256', ecKeyPair().privateKey)),
  },
];

interface ServerKind {
  alg: Algorithm;
  keys?: () => TestKeyPair;
  cases: ForgeryCase[];
}

const SERVERS: ServerKind[] = [
  { alg: 'HS256', cases: HS256_CASES },
  { alg: 'ES256', keys: () => ecKeyPair(), cases: ES256_CASES },
  { alg: 'RS256', keys: () => rsaKeyPair(), cases: RS256_CASES },
];

describe.each(SERVERS)(
  'forged and malformed tokens against an $alg server',
  ({ alg, keys, cases }) => {
    const target = {} as Target;

    beforeAll(async () => {
      const pair = keys?.();
      target.api = await startTestServer({
        env: pair
          ? { JWT_ALGORITHM: alg, JWT_PRIVATE_KEY: pair.privatePem }
          : { JWT_ALGORITHM: alg },
      });
      target.session = await registerUser(target.api);
      const kid = jwsHeader(target.session.accessToken).kid;
      target.kid = kid === undefined ? {} : { kid };
      if (pair) {
        target.keys = pair;
        target.publicPem = pair.publicPem;
        target.ours =
          alg === 'ES256'
            ? ecdsaSigner('sha256', pair.privateKey)
            : rsaSigner('sha256', pair.privateKey);
      } else {
        target.ours = hmacSigner('sha256', TEST_JWT_SECRET);
      }
    });

    afterAll(async () => {
      await target.api.close();
    });

    it('signs its tokens with the configured algorithm, typ at+jwt, and a kid when asymmetric', () => {
      const { alg: written, typ, kid } = jwsHeader(target.session.accessToken);
      expect({ alg: written, typ }).toEqual({ alg, typ: 'at+jwt' });
      if (alg === 'HS256') expect(kid).toBeUndefined();
      else expect(kid).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{43}$/));
    });

    it('accepts the token it issued and one forged exactly like it (the cases differ in one thing)', async () => {
      for (const token of [target.session.accessToken, ours(target)]) {
        const response = await target.api.gql(ME, {}, { token });
        expect(response.body.errors).toBeUndefined();
        expect(response.body.data?.me.id).toBe(target.session.user.id);
      }
    });

    it('tolerates a few seconds of clock skew on exp and nbf', async () => {
      const token = ours(target, { iat: now() - 600, exp: now() - 2, nbf: now() + 2 });
      const response = await target.api.gql(ME, {}, { token });
      expect(response.body.errors).toBeUndefined();
    });

    it.each(
      [...COMMON_CASES, ...cases].map((c) => ({ ...c, reason: c.reason ?? 'INVALID_TOKEN' })),
    )('answers $name with UNAUTHENTICATED/$reason', async ({ token, reason }) => {
      const response = await target.api.gql(ME, {}, { token: token(target) });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(
        /application\/(graphql-response\+)?json/,
      );
      expect(response.body.data).toBeNull();
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors?.[0]).toMatchObject({
        path: ['me'],
        extensions: { code: 'UNAUTHENTICATED', reason },
      });
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });
  },
);

describe('request headers beyond the raised limit', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
  });

  afterAll(async () => {
    await api.close();
  });

  it('are refused by Node with a bare 431 before any token parsing, and the server keeps serving', async () => {
    const response = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${'A'.repeat(200 * 1024)}`,
      },
      body: JSON.stringify({ query: ME }),
    });
    expect(response.status).toBe(431);
    const health = await fetch(`${api.url}/health`);
    expect(health.status).toBe(200);
  });
});
