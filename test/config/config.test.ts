import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, loadDbServerConfig, parseDuration } from '../../src/config';
import { publicJwk } from '../../src/config/keys';
import { ecKeyPair, rsaKeyPair } from '../helpers/tokens';

const STRONG_SECRET = 'k'.repeat(32);

describe('loadConfig', () => {
  it('applies the documented defaults in development', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      isProduction: false,
      port: 4000,
      mongodbUri: undefined,
      refreshTokenTtl: 30 * 86400,
      sessionMaxAge: 90 * 86400,
      bcryptCost: 12,
      introspection: true,
      sandbox: true,
    });
    expect(config.jwt).toMatchObject({
      algorithm: 'HS256',
      issuer: 'graphql-jwt-auth',
      audience: 'graphql-jwt-auth',
      accessTokenTtl: 900,
      secretIsEphemeral: true,
    });
    expect(Buffer.byteLength(config.jwt.secret)).toBeGreaterThanOrEqual(32);
  });

  it('generates a different development secret on every start', () => {
    expect(loadConfig({}).jwt.secret).not.toBe(loadConfig({}).jwt.secret);
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.jwt)).toBe(true);
  });

  it.each([
    [{ NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/app' }, 'JWT_SECRET'],
    [
      { NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/app', JWT_SECRET: 'short' },
      'JWT_SECRET',
    ],
    [
      { NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/app', JWT_SECRET: 'changeme' },
      'JWT_SECRET',
    ],
    [{ NODE_ENV: 'production', JWT_SECRET: STRONG_SECRET }, 'MONGODB_URI'],
    [{ MONGODB_URI: 'postgres://x' }, 'MONGODB_URI'],
    [{ PORT: 'eighty' }, 'PORT'],
    [{ BCRYPT_COST: '3' }, 'BCRYPT_COST'],
    [
      {
        NODE_ENV: 'production',
        MONGODB_URI: 'mongodb://db/app',
        JWT_SECRET: STRONG_SECRET,
        BCRYPT_COST: '8',
      },
      'BCRYPT_COST',
    ],
    [{ ACCESS_TOKEN_TTL: '15 minutes' }, 'ACCESS_TOKEN_TTL'],
    [{ REFRESH_TOKEN_TTL: '0' }, 'REFRESH_TOKEN_TTL'],
    [{ SESSION_MAX_AGE: '-1d' }, 'SESSION_MAX_AGE'],
    [{ JWT_ALGORITHM: 'none' }, 'JWT_ALGORITHM'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ INTROSPECTION: 'maybe' }, 'INTROSPECTION'],
  ])('refuses %p with one message naming %s', (given, variable) => {
    // Production also needs a mail server; given here so the variable under test is the only
    // problem.
    const env = { SMTP_URL: 'smtp://mail.example.com:587', ...given };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });

  it('accepts a strict production configuration and turns development helpers off', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db:27017/app',
      JWT_SECRET: STRONG_SECRET,
      SMTP_URL: 'smtp://mail.example.com:587',
    });
    expect(config).toMatchObject({
      isProduction: true,
      introspection: false,
      sandbox: false,
      host: '0.0.0.0',
    });
    expect(config.jwt.secretIsEphemeral).toBe(false);
  });

  it('reads durations in seconds, minutes, hours and days', () => {
    expect(parseDuration('X', '45')).toBe(45);
    expect(parseDuration('X', '45s')).toBe(45);
    expect(parseDuration('X', '15m')).toBe(900);
    expect(parseDuration('X', '12h')).toBe(43200);
    expect(parseDuration('X', '30d')).toBe(2592000);
  });
});

describe('loadConfig with signing keys', () => {
  const ec = ecKeyPair();
  const previousEc = ecKeyPair();
  const rsa = rsaKeyPair();
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'config-test-'));
    writeFileSync(path.join(dir, 'rsa.pem'), rsa.privatePem);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads an ES256 key pair, derives the kid from the key, and lists extra public keys after it', () => {
    const config = loadConfig({
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY: ec.privatePem,
      JWT_PUBLIC_KEYS: previousEc.publicPem,
    });
    const kid = publicJwk(ec.publicKey, 'ES256').kid;
    expect(config.jwt.algorithm).toBe('ES256');
    expect(config.jwt.signingKey?.kid).toBe(kid);
    expect(config.jwt.verificationKeys.map((key) => key.kid)).toEqual([
      kid,
      publicJwk(previousEc.publicKey, 'ES256').kid,
    ]);
    expect(Object.isFrozen(config.jwt.verificationKeys)).toBe(true);
  });

  it('needs no JWT_SECRET in production with RS256', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db/app',
      SMTP_URL: 'smtp://mail.example.com:587',
      JWT_ALGORITHM: 'RS256',
      JWT_PRIVATE_KEY: path.join(dir, 'rsa.pem'),
    });
    expect(config.jwt.signingKey?.kid).toBe(publicJwk(rsa.publicKey, 'RS256').kid);
    expect(config.jwt.secretIsEphemeral).toBe(false);
  });

  it.each([
    [
      'RS256 without a private key',
      'JWT_PRIVATE_KEY',
      () => ({ JWT_ALGORITHM: 'RS256' }),
      /is required with RS256/,
    ],
    [
      'a 1024-bit RSA key',
      'JWT_PRIVATE_KEY',
      () => ({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: rsaKeyPair(1024).privatePem }),
      /1024 bits.*at least 2048/,
    ],
    [
      'an RSA key with ES256',
      'JWT_PRIVATE_KEY',
      () => ({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: rsa.privatePem }),
      /RSA key.*ES256 needs an EC key on the P-256 curve/,
    ],
    [
      'a P-384 key with ES256',
      'JWT_PRIVATE_KEY',
      () => ({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: ecKeyPair('P-384').privatePem }),
      /P-384/,
    ],
    [
      'an EC key with RS256',
      'JWT_PRIVATE_KEY',
      () => ({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: ec.privatePem }),
      /EC key.*RS256 needs an RSA key/,
    ],
    [
      'an unreadable private key file',
      'JWT_PRIVATE_KEY',
      () => ({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: path.join(dir, 'missing.pem') }),
      /cannot be read.*missing\.pem/,
    ],
    [
      'an unreadable public key file in the list',
      'JWT_PUBLIC_KEYS',
      () => ({
        JWT_ALGORITHM: 'RS256',
        JWT_PRIVATE_KEY: rsa.privatePem,
        JWT_PUBLIC_KEYS: `${path.join(dir, 'rsa.pem')}.pub,${path.join(dir, 'gone.pub')}`,
      }),
      /cannot be read/,
    ],
    [
      'a 1024-bit RSA public key',
      'JWT_PUBLIC_KEYS',
      () => ({
        JWT_ALGORITHM: 'RS256',
        JWT_PRIVATE_KEY: rsa.privatePem,
        JWT_PUBLIC_KEYS: rsaKeyPair(1024).publicPem,
      }),
      /1024 bits/,
    ],
    [
      'a public key of the wrong kind',
      'JWT_PUBLIC_KEYS',
      () => ({
        JWT_ALGORITHM: 'ES256',
        JWT_PRIVATE_KEY: ec.privatePem,
        JWT_PUBLIC_KEYS: rsa.publicPem,
      }),
      /RSA key/,
    ],
    [
      'a private key among the public keys',
      'JWT_PUBLIC_KEYS',
      () => ({
        JWT_ALGORITHM: 'ES256',
        JWT_PRIVATE_KEY: ec.privatePem,
        JWT_PUBLIC_KEYS: ec.privatePem,
      }),
      /private key/,
    ],
    [
      'a private key while the algorithm is HS256',
      'JWT_PRIVATE_KEY',
      () => ({ JWT_PRIVATE_KEY: ec.privatePem }),
      /JWT_ALGORITHM is HS256/,
    ],
  ])('refuses %s with one message naming %s', (_name, variable, env, detail) => {
    const load = () => loadConfig(env());
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
    expect(load).toThrow(detail);
  });
});

describe('loadDbServerConfig', () => {
  it('defaults to port 27017 and .data/db', () => {
    expect(loadDbServerConfig({})).toEqual({ port: 27017, dataDir: '.data/db', engine: 'auto' });
  });
});

describe('abuse-resistance settings', () => {
  const production = {
    NODE_ENV: 'production',
    MONGODB_URI: 'mongodb://db:27017/app',
    JWT_SECRET: STRONG_SECRET,
    SMTP_URL: 'smtp://mail.example.com:587',
  };

  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config.rateLimit).toEqual({
      loginMaxFailures: 5,
      loginFailureWindow: 900,
      ipLimit: 300,
      ipWindow: 900,
    });
    expect(config.graphqlLimits).toEqual({
      maxDepth: 10,
      maxAliases: 10,
      maxDirectives: 10,
      maxTokens: 1000,
      maxCost: 1000,
    });
    expect(config).toMatchObject({ bodyLimit: 102400, trustProxy: false, passwordMinLength: 8 });
    expect(Object.isFrozen(config.rateLimit)).toBe(true);
  });

  it('allows localhost origins in development and none in production', () => {
    expect(loadConfig({}).corsOrigins).toEqual([
      'http://localhost:*',
      'http://127.0.0.1:*',
      'http://[::1]:*',
      'https://studio.apollographql.com',
    ]);
    expect(loadConfig(production).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: 'none' }).corsOrigins).toEqual([]);
    expect(
      loadConfig({ ...production, CORS_ORIGINS: 'https://App.example.com/, http://localhost:*' })
        .corsOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:*']);
  });

  it.each([
    ['', false],
    ['false', false],
    ['true', true],
    ['2', 2],
    ['10.0.0.0/8, 192.168.1.1', ['10.0.0.0/8', '192.168.1.1']],
    ['loopback,::1', ['loopback', '::1']],
  ])('reads TRUST_PROXY=%p', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('refuses TRUST_PROXY=true in production, where a client would choose its own address', () => {
    expect(() => loadConfig({ ...production, TRUST_PROXY: 'true' })).toThrow(
      /TRUST_PROXY.*must not be true in production/,
    );
    expect(loadConfig({ ...production, TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ ...production, TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toEqual([
      '10.0.0.0/8',
    ]);
  });

  it.each([
    [{ LOGIN_MAX_FAILURES: '0' }, 'LOGIN_MAX_FAILURES'],
    [{ LOGIN_FAILURE_WINDOW: 'soon' }, 'LOGIN_FAILURE_WINDOW'],
    [{ AUTH_IP_LIMIT: '-1' }, 'AUTH_IP_LIMIT'],
    [{ AUTH_IP_WINDOW: '0' }, 'AUTH_IP_WINDOW'],
    [{ GRAPHQL_MAX_DEPTH: 'deep' }, 'GRAPHQL_MAX_DEPTH'],
    [{ GRAPHQL_MAX_TOKENS: '5' }, 'GRAPHQL_MAX_TOKENS'],
    [{ BODY_LIMIT: '100kb' }, 'BODY_LIMIT'],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: 'proxy.internal' }, 'TRUST_PROXY'],
    [{ CORS_ORIGINS: '*' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://app.example.com/path' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'app.example.com' }, 'CORS_ORIGINS'],
    [{ PASSWORD_MIN_LENGTH: '6' }, 'PASSWORD_MIN_LENGTH'],
  ])('refuses %p with one message naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });
});

describe('operations settings', () => {
  it('logs at info and allows 10 s for shutdown by default', () => {
    expect(loadConfig({})).toMatchObject({ logLevel: 'info', shutdownTimeoutMs: 10_000 });
  });

  it('reads LOG_LEVEL and SHUTDOWN_TIMEOUT', () => {
    expect(loadConfig({ LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT: '30s' })).toMatchObject({
      logLevel: 'warn',
      shutdownTimeoutMs: 30_000,
    });
  });

  it.each([
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ SHUTDOWN_TIMEOUT: 'soon' }, 'SHUTDOWN_TIMEOUT'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });
});

describe('configuration errors', () => {
  it('reports every invalid variable at once, in one message', () => {
    let caught: unknown;
    try {
      loadConfig({
        NODE_ENV: 'production',
        MONGODB_URI: 'mongodb://db:27017/app',
        BCRYPT_COST: '4',
        JWT_SECRET: 'short',
        PORT: 'eighty',
        CORS_ORIGINS: '*',
        SMTP_URL: 'smtp://mail.example.com:587',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems).toHaveLength(4);
    for (const variable of ['BCRYPT_COST', 'JWT_SECRET', 'PORT', 'CORS_ORIGINS']) {
      expect(error.message).toContain(`- ${variable} `);
    }
  });

  it.each(['development', 'test', 'production'])(
    'refuses a short or well-known JWT_SECRET in %s',
    (nodeEnv) => {
      const env = {
        NODE_ENV: nodeEnv,
        MONGODB_URI: 'mongodb://db:27017/app',
        SMTP_URL: 'smtp://mail.example.com:587',
      };
      expect(() => loadConfig({ ...env, JWT_SECRET: 'x'.repeat(31) })).toThrow(
        /JWT_SECRET must be at least 32 bytes/,
      );
      expect(() =>
        loadConfig({ ...env, JWT_SECRET: 'replace-me-with-at-least-32-random-bytes' }),
      ).toThrow(/JWT_SECRET is a well-known placeholder/);
      expect(loadConfig({ ...env, JWT_SECRET: STRONG_SECRET }).jwt.secret).toBe(STRONG_SECRET);
    },
  );

  it('still lets development start without JWT_SECRET, on a key of its own', () => {
    const config = loadConfig({ NODE_ENV: 'development' });
    expect(config.jwt.secretIsEphemeral).toBe(true);
    expect(Buffer.byteLength(config.jwt.secret)).toBeGreaterThanOrEqual(32);
  });
});

describe('role scopes and client id', () => {
  it('grants ADMIN users:* and writes client_id graphql-jwt-auth by default', () => {
    expect(loadConfig({}).jwt).toMatchObject({
      roleScopes: { ADMIN: ['users:*'] },
      clientId: 'graphql-jwt-auth',
    });
  });

  it('reads ROLE_SCOPES (replacing the default map) and JWT_CLIENT_ID', () => {
    const config = loadConfig({
      ROLE_SCOPES: ' USER = notes:read  notes:write ; ADMIN=* ;',
      JWT_CLIENT_ID: 'web',
    });
    expect(config.jwt.roleScopes).toEqual({ USER: ['notes:read', 'notes:write'], ADMIN: ['*'] });
    expect(config.jwt.clientId).toBe('web');
    expect(Object.isFrozen(config.jwt.roleScopes)).toBe(true);
  });

  it.each([
    ['ROOT=users:*', /unknown role "ROOT"/],
    ['ADMIN users:*', /has no "="/],
    ['ADMIN=users:*;ADMIN=notes:read', /ADMIN twice/],
    ['ADMIN=users:*:read', /"users:\*:read"/],
    ['USER=notes:read,notes:write', /"notes:read,notes:write"/],
    ['USER=*:read', /"\*:read"/],
  ])('refuses ROLE_SCOPES=%s with a message naming it', (value, problem) => {
    expect(() => loadConfig({ ROLE_SCOPES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ROLE_SCOPES: value })).toThrow(
      /^Invalid configuration: ROLE_SCOPES /,
    );
    expect(() => loadConfig({ ROLE_SCOPES: value })).toThrow(problem);
  });
});
