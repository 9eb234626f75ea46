import { ConfigError, loadConfig, loadDbServerConfig, parseDuration } from '../src/config';

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
  ])('refuses %p with one message naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });

  it('accepts a strict production configuration and turns development helpers off', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db:27017/app',
      JWT_SECRET: STRONG_SECRET,
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

describe('loadDbServerConfig', () => {
  it('defaults to port 27017 and .data/db', () => {
    expect(loadDbServerConfig({})).toEqual({ port: 27017, dataDir: '.data/db', engine: 'auto' });
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
