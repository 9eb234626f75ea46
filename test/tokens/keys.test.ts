import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import {
  generateSigningKeyPair,
  jwkThumbprint,
  KeyMaterialError,
  parsePrivateKey,
  parsePublicKeys,
  publicJwk,
  verificationKeySet,
} from '../../src/config/keys';
import { ecKeyPair, jwsHeader, rsaKeyPair } from '../helpers/tokens';
import { ME, registerUser } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'keys-test-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeKey(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('jwkThumbprint', () => {
  it('matches the RFC 7638 §3.1 example', () => {
    const jwk = {
      kty: 'RSA',
      e: 'AQAB',
      n:
        '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJEC' +
        'PebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q' +
        'vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6' +
        'WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('ignores optional members, so the kid does not depend on how the key was written', () => {
    const { publicKey } = ecKeyPair();
    const jwk = publicKey.export({ format: 'jwk' });
    expect(jwkThumbprint({ ...jwk, alg: 'ES256', use: 'sig' } as JsonWebKey)).toBe(
      jwkThumbprint(jwk),
    );
  });
});

describe('publicJwk', () => {
  it.each([
    ['ES256', () => ecKeyPair(), ['kty', 'kid', 'alg', 'use', 'crv', 'x', 'y']],
    ['RS256', () => rsaKeyPair(), ['kty', 'kid', 'alg', 'use', 'n', 'e']],
  ] as const)('describes an %s key by its public parameters only', (alg, pair, members) => {
    const { publicKey, privateKey } = pair();
    const jwk = publicJwk(publicKey, alg);
    expect(Object.keys(jwk).sort()).toEqual([...members].sort());
    expect(jwk).toMatchObject({ alg, use: 'sig', kid: jwkThumbprint(jwk) });
    // Derived from the private key, the JWK is the same public one.
    expect(publicJwk(createPublicKey(privateKey), alg)).toEqual(jwk);
  });
});

describe('parsePrivateKey', () => {
  it('reads PEM text, PEM with literal \\n escapes, and a file path to the same key', () => {
    const pair = ecKeyPair();
    const fromText = parsePrivateKey(pair.privatePem, 'ES256');
    const fromEscaped = parsePrivateKey(pair.privatePem.replace(/\n/g, '\\n'), 'ES256');
    const fromFile = parsePrivateKey(writeKey('current.pem', pair.privatePem), 'ES256');
    expect(fromEscaped.kid).toBe(fromText.kid);
    expect(fromFile.kid).toBe(fromText.kid);
    expect(fromText.kid).toBe(publicJwk(pair.publicKey, 'ES256').kid);
  });

  it('reads PKCS#1 and SEC1 encodings too', () => {
    const rsa = rsaKeyPair();
    const pkcs1 = rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
    expect(parsePrivateKey(pkcs1, 'RS256').kid).toBe(publicJwk(rsa.publicKey, 'RS256').kid);
    const ec = ecKeyPair();
    const sec1 = ec.privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    expect(parsePrivateKey(sec1, 'ES256').kid).toBe(publicJwk(ec.publicKey, 'ES256').kid);
  });

  it.each([
    ['an RSA key for ES256', () => parsePrivateKey(rsaKeyPair().privatePem, 'ES256'), /RSA key/],
    [
      'a P-384 key for ES256',
      () => parsePrivateKey(ecKeyPair('P-384').privatePem, 'ES256'),
      /P-384/,
    ],
    ['an EC key for RS256', () => parsePrivateKey(ecKeyPair().privatePem, 'RS256'), /EC key/],
    [
      'a 1024-bit RSA key',
      () => parsePrivateKey(rsaKeyPair(1024).privatePem, 'RS256'),
      /1024 bits/,
    ],
    ['a public key', () => parsePrivateKey(ecKeyPair().publicPem, 'ES256'), /private key/],
    [
      'two private keys',
      () => parsePrivateKey(ecKeyPair().privatePem + ecKeyPair().privatePem, 'ES256'),
      /exactly one/,
    ],
    [
      'a damaged PEM body',
      () =>
        parsePrivateKey(
          '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n',
          'ES256',
        ),
      /not a readable/,
    ],
    ['a missing file', () => parsePrivateKey(path.join(dir, 'missing.pem'), 'ES256'), /ENOENT/],
    ['a directory', () => parsePrivateKey(dir, 'ES256'), /EISDIR/],
  ])('refuses %s', (_name, parse, message) => {
    expect(parse).toThrow(KeyMaterialError);
    expect(parse).toThrow(message);
  });
});

describe('parsePublicKeys', () => {
  it('reads concatenated PEM blocks and a comma-separated list of files', () => {
    const [a, b, c] = [ecKeyPair(), ecKeyPair(), ecKeyPair()];
    const kids = [a, b, c].map((pair) => publicJwk(pair.publicKey, 'ES256').kid);
    expect(
      parsePublicKeys(a.publicPem + b.publicPem + c.publicPem, 'ES256').map((k) => k.kid),
    ).toEqual(kids);
    const list = [
      writeKey('a.pub.pem', a.publicPem),
      writeKey('bc.pub.pem', b.publicPem + c.publicPem),
    ].join(' , ');
    expect(parsePublicKeys(list, 'ES256').map((k) => k.kid)).toEqual(kids);
  });

  it('refuses a private key, a key of the wrong kind, and an unreadable file', () => {
    expect(() => parsePublicKeys(ecKeyPair().privatePem, 'ES256')).toThrow(/private key/);
    expect(() => parsePublicKeys(rsaKeyPair().publicPem, 'ES256')).toThrow(/RSA key/);
    expect(() => parsePublicKeys(rsaKeyPair(1024).publicPem, 'RS256')).toThrow(/1024 bits/);
    expect(() => parsePublicKeys(`${path.join(dir, 'nope.pem')}`, 'ES256')).toThrow(/ENOENT/);
  });
});

describe('verificationKeySet', () => {
  it('puts the signing key first and lists a repeated key once', () => {
    const current = parsePrivateKey(ecKeyPair().privatePem, 'ES256');
    const previous = parsePublicKeys(ecKeyPair().publicPem, 'ES256');
    const set = verificationKeySet(current, [...previous, current]);
    expect(set.map((key) => key.kid)).toEqual([current.kid, previous[0]!.kid]);
    expect(set[0]).not.toHaveProperty('privateKey');
  });
});

describe('generateSigningKeyPair', () => {
  it.each(['ES256', 'RS256'] as const)('makes an %s pair the loader accepts', (alg) => {
    const pair = generateSigningKeyPair(alg);
    const signing = parsePrivateKey(pair.privateKeyPem, alg);
    expect(signing.kid).toBe(pair.kid);
    expect(parsePublicKeys(pair.publicKeyPem, alg)[0]!.kid).toBe(pair.kid);
  });
});

describe.each([
  ['ES256', () => ecKeyPair()],
  ['RS256', () => rsaKeyPair()],
] as const)('GET /.well-known/jwks.json on an %s server', (alg, pair) => {
  let api: TestServer;
  const keys = pair();
  const previous = pair();

  beforeAll(async () => {
    api = await startTestServer({
      env: {
        JWT_ALGORITHM: alg,
        JWT_PRIVATE_KEY: keys.privatePem,
        JWT_PUBLIC_KEYS: previous.publicPem,
      },
    });
  });

  afterAll(async () => {
    await api.close();
  });

  it('publishes the current and the previous public key, cacheable, with public parameters only', async () => {
    const response = await fetch(`${api.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=\d+/);
    const body = (await response.json()) as { keys: Array<Record<string, string>> };
    expect(body.keys.map((key) => key.kid)).toEqual([
      publicJwk(keys.publicKey, alg).kid,
      publicJwk(previous.publicKey, alg).kid,
    ]);
    for (const key of body.keys) {
      expect(key).toMatchObject({ kty: alg === 'ES256' ? 'EC' : 'RSA', alg, use: 'sig' });
      expect(key.kid).toBe(jwkThumbprint(key));
      for (const member of PRIVATE_JWK_MEMBERS) expect(key).not.toHaveProperty(member);
    }
  });

  it('lets another service verify a fresh token with nothing but the JWKS', async () => {
    const session = await registerUser(api);
    const { keys: published } = (await (
      await fetch(`${api.url}/.well-known/jwks.json`)
    ).json()) as {
      keys: Array<JsonWebKey & { kid: string }>;
    };
    const kid = jwsHeader(session.accessToken).kid;
    const jwk = published.find((key) => key.kid === kid);
    expect(jwk).toBeDefined();
    const verified = jwt.verify(
      session.accessToken,
      createPublicKey({ key: jwk!, format: 'jwk' }),
      {
        algorithms: [alg],
        issuer: 'graphql-jwt-auth',
        audience: 'graphql-jwt-auth',
      },
    );
    expect(verified).toMatchObject({ sub: session.user.id, roles: ['USER'] });
    // The other published key (the previous one) does not verify it.
    const other = published.find((key) => key.kid !== kid)!;
    expect(() =>
      jwt.verify(session.accessToken, createPublicKey({ key: other, format: 'jwk' }), {
        algorithms: [alg],
      }),
    ).toThrow(/invalid signature/);
    expect((await api.gql(ME, {}, { token: session.accessToken })).body.errors).toBeUndefined();
  });
});
