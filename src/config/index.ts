import { KeyObject, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  KeyMaterialError,
  parsePrivateKey,
  parsePublicKeys,
  verificationKeySet,
  type AsymmetricAlgorithm,
  type SigningKey,
  type VerificationKey,
} from './keys';

/** Node environments the server knows; anything but `production` is treated as development. */
export type NodeEnv = 'development' | 'test' | 'production';

/** Signing algorithms on the allowlist; exactly one is active per deployment. */
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** Pino log levels, from most to least verbose, plus `silent`. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Which embedded database `npm run dev`, `npm run db` and the tests start when MONGODB_URI is unset. */
export type EmbeddedDbEngine = 'auto' | 'mongod' | 'ferretdb';

export interface JwtConfig {
  /** JWT_ALGORITHM, default HS256. The only algorithm verification accepts. */
  readonly algorithm: JwtAlgorithm;
  /**
   * JWT_SECRET: HMAC key for HS256. Required in production (at least 32 bytes); random per start
   * otherwise. Empty, and never used, with RS256 or ES256.
   */
  readonly secret: string;
  /** True when JWT_SECRET was not set and a random development secret was generated. */
  readonly secretIsEphemeral: boolean;
  /**
   * JWT_PRIVATE_KEY (RS256/ES256 only): PEM text or a file path. New tokens are signed with it and
   * carry its RFC 7638 thumbprint as `kid`. Undefined with HS256.
   */
  readonly signingKey: SigningKey | undefined;
  /**
   * Keys verification accepts, chosen by `kid`: the signing key's public half, then JWT_PUBLIC_KEYS
   * (concatenated PEM public keys or comma-separated file paths). Published as the JWKS. Empty with
   * HS256.
   */
  readonly verificationKeys: readonly VerificationKey[];
  /** JWT_ISSUER, default `graphql-jwt-auth`: the `iss` claim written and required. */
  readonly issuer: string;
  /** JWT_AUDIENCE, default `graphql-jwt-auth`: the `aud` claim written and required. */
  readonly audience: string;
  /** ACCESS_TOKEN_TTL, default 15m: access token lifetime in seconds. */
  readonly accessTokenTtl: number;
  /** Clock skew tolerated when checking `exp` and `nbf`, in seconds. */
  readonly clockToleranceSeconds: number;
}

/** Login throttling (counters live in MongoDB, so every instance shares them). */
export interface RateLimitConfig {
  /** LOGIN_MAX_FAILURES, default 5: failed logins per account (normalised email) per window. */
  readonly loginMaxFailures: number;
  /** LOGIN_FAILURE_WINDOW, default 15m, in seconds. */
  readonly loginFailureWindow: number;
  /** AUTH_IP_LIMIT, default 300: register, login and refresh calls per client IP per window; 0 turns it off. */
  readonly ipLimit: number;
  /** AUTH_IP_WINDOW, default 15m, in seconds. */
  readonly ipWindow: number;
}

/** Static limits every GraphQL document must pass before it is executed. */
export interface GraphQLLimitsConfig {
  /** GRAPHQL_MAX_DEPTH, default 10: nesting of selection sets (introspection's `__schema` exempt). */
  readonly maxDepth: number;
  /** GRAPHQL_MAX_ALIASES, default 10: aliased fields per operation. */
  readonly maxAliases: number;
  /** GRAPHQL_MAX_DIRECTIVES, default 10: directives per operation. */
  readonly maxDirectives: number;
  /** GRAPHQL_MAX_TOKENS, default 1000: lexical tokens per document. */
  readonly maxTokens: number;
  /** GRAPHQL_MAX_COST, default 1000: graphql-armor's static cost (introspection's `__schema` exempt). */
  readonly maxCost: number;
}

/** Which proxies may set X-Forwarded-For: none, any, a hop count, or addresses/CIDR ranges. */
export type TrustProxy = boolean | number | readonly string[];

export interface Config {
  /** NODE_ENV, default development. */
  readonly nodeEnv: NodeEnv;
  readonly isProduction: boolean;
  /** PORT, default 4000. 0 picks a free port (tests). */
  readonly port: number;
  /** HOST, default 0.0.0.0 in production and 127.0.0.1 otherwise. */
  readonly host: string;
  /** MONGODB_URI: required in production; unset elsewhere starts an embedded database. */
  readonly mongodbUri: string | undefined;
  /** EMBEDDED_DB, default auto: mongod via mongodb-memory-server where it downloads, else FerretDB. */
  readonly embeddedDb: EmbeddedDbEngine;
  readonly jwt: JwtConfig;
  /** REFRESH_TOKEN_TTL, default 30d: lifetime of one refresh token, in seconds. */
  readonly refreshTokenTtl: number;
  /** SESSION_MAX_AGE, default 90d: absolute lifetime of a session (refresh-token family), in seconds. */
  readonly sessionMaxAge: number;
  /** BCRYPT_COST, default 12 (at least 10 in production; tests may lower it to 4). */
  readonly bcryptCost: number;
  /** INTROSPECTION, default on outside production and off in production. */
  readonly introspection: boolean;
  /** SANDBOX, default on outside production: Apollo Sandbox landing page at the endpoint. */
  readonly sandbox: boolean;
  readonly rateLimit: RateLimitConfig;
  readonly graphqlLimits: GraphQLLimitsConfig;
  /** BODY_LIMIT, default 102400: largest request body in bytes. */
  readonly bodyLimit: number;
  /** TRUST_PROXY, default false: whether X-Forwarded-For decides the client IP. */
  readonly trustProxy: TrustProxy;
  /**
   * CORS_ORIGINS: browser origins allowed to call the API (`http://host:*` matches any port).
   * Default: none in production; localhost on any port and Apollo Studio otherwise.
   */
  readonly corsOrigins: readonly string[];
  /** PASSWORD_MIN_LENGTH, default 8 (8–64): shortest password accepted, in characters. */
  readonly passwordMinLength: number;
  /** LOG_LEVEL, default info: JSON log lines on stdout at this level and above. */
  readonly logLevel: LogLevel;
  /** SHUTDOWN_TIMEOUT, default 10s: how long in-flight requests may finish after SIGTERM, in ms. */
  readonly shutdownTimeoutMs: number;
}

/** Settings of the standalone embedded database (`npm run db`). */
export interface DbServerConfig {
  /** DB_PORT, default 27017. */
  readonly port: number;
  /** DB_DATA_DIR, default `.data/db`: kept across restarts. */
  readonly dataDir: string;
  readonly engine: EmbeddedDbEngine;
}

/** A configuration problem that stops the start; its message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses `900`, `900s`, `15m`, `12h` or `30d` into whole seconds. */
export function parseDuration(variable: string, value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  const amount = match ? Number(match[1]) : NaN;
  const unit = match?.[2] || 's';
  const seconds = amount * (DURATION_UNITS[unit] ?? NaN);
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new ConfigError(
      variable,
      `must be a positive duration such as 900, 15m, 12h or 30d (got "${value}")`,
    );
  }
  return seconds;
}

function readInt(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(variable, `must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

function readBool(env: Env, variable: string, fallback: boolean): boolean {
  const raw = env[variable]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(variable, `must be true or false (got "${raw}")`);
}

function readChoice<T extends string>(
  env: Env,
  variable: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const found = choices.find((choice) => choice === raw);
  if (!found)
    throw new ConfigError(variable, `must be one of ${choices.join(', ')} (got "${raw}")`);
  return found;
}

function readText(env: Env, variable: string, fallback: string): string {
  const raw = env[variable]?.trim();
  return raw === undefined || raw === '' ? fallback : raw;
}

function readDuration(env: Env, variable: string, fallback: string): number {
  return parseDuration(variable, readText(env, variable, fallback));
}

// Values copied from tutorials and .env samples; a production deployment using one is as good as
// unsigned.
const PLACEHOLDER_SECRETS = new Set([
  'secret',
  'changeme',
  'change-me',
  'your-secret-key',
  'your_jwt_secret',
  'supersecret',
  'jwt_secret',
  'replace-me-with-at-least-32-random-bytes',
]);

/** Runs a key parser and reports its complaint under the variable's name. */
function readKeyVariable<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof KeyMaterialError) throw new ConfigError(variable, error.message);
    throw error;
  }
}

// Keys are parsed here, once, so a bad key stops the start instead of failing requests.
function readKeyPairConfig(
  env: Env,
  algorithm: AsymmetricAlgorithm,
): Pick<JwtConfig, 'signingKey' | 'verificationKeys'> {
  const privateValue = env.JWT_PRIVATE_KEY?.trim();
  if (!privateValue) {
    throw new ConfigError(
      'JWT_PRIVATE_KEY',
      `is required with ${algorithm} (PEM text or a file path; npm run cli -- keygen --alg ${algorithm})`,
    );
  }
  const signingKey = readKeyVariable('JWT_PRIVATE_KEY', () =>
    parsePrivateKey(privateValue, algorithm),
  );
  const publicValue = env.JWT_PUBLIC_KEYS?.trim();
  const extras = publicValue
    ? readKeyVariable('JWT_PUBLIC_KEYS', () => parsePublicKeys(publicValue, algorithm))
    : [];
  return { signingKey, verificationKeys: verificationKeySet(signingKey, extras) };
}

function readJwtConfig(env: Env, isProduction: boolean): JwtConfig {
  const algorithm = readChoice<JwtAlgorithm>(
    env,
    'JWT_ALGORITHM',
    ['HS256', 'RS256', 'ES256'],
    'HS256',
  );
  const common = {
    algorithm,
    issuer: readText(env, 'JWT_ISSUER', 'graphql-jwt-auth'),
    audience: readText(env, 'JWT_AUDIENCE', 'graphql-jwt-auth'),
    accessTokenTtl: readDuration(env, 'ACCESS_TOKEN_TTL', '15m'),
    clockToleranceSeconds: 5,
  };
  if (algorithm !== 'HS256') {
    const { signingKey, verificationKeys } = readKeyPairConfig(env, algorithm);
    return { ...common, secret: '', secretIsEphemeral: false, signingKey, verificationKeys };
  }
  for (const variable of ['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEYS']) {
    if (env[variable]?.trim()) {
      throw new ConfigError(variable, 'is set, but JWT_ALGORITHM is HS256; use RS256 or ES256');
    }
  }
  const rawSecret = env.JWT_SECRET;
  let secret: string;
  let secretIsEphemeral = false;
  if (rawSecret === undefined || rawSecret === '') {
    if (isProduction)
      throw new ConfigError('JWT_SECRET', 'is required in production (at least 32 bytes)');
    // Development only: tokens die with the process, which is the safe failure mode.
    secret = randomBytes(48).toString('base64url');
    secretIsEphemeral = true;
  } else {
    secret = rawSecret;
    if (isProduction && Buffer.byteLength(secret, 'utf8') < 32) {
      throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes in production');
    }
    if (isProduction && PLACEHOLDER_SECRETS.has(secret.toLowerCase())) {
      throw new ConfigError('JWT_SECRET', 'is a well-known placeholder; generate a random secret');
    }
  }
  return { ...common, secret, secretIsEphemeral, signingKey: undefined, verificationKeys: [] };
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const inner of Object.values(value)) {
    // Node caches key details on the KeyObject itself, so freezing one breaks it; it is immutable.
    if (inner instanceof KeyObject) continue;
    if (inner && typeof inner === 'object') deepFreeze(inner as object);
  }
  return Object.freeze(value);
}

/**
 * Reads and validates the environment once. Throws a {@link ConfigError} naming the first bad
 * variable; the returned object is deeply frozen.
 */
export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = readChoice<NodeEnv>(
    env,
    'NODE_ENV',
    ['development', 'test', 'production'],
    'development',
  );
  const isProduction = nodeEnv === 'production';
  const mongodbUri = env.MONGODB_URI?.trim() || undefined;
  if (isProduction && !mongodbUri) {
    throw new ConfigError('MONGODB_URI', 'is required in production (no embedded database there)');
  }
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    throw new ConfigError('MONGODB_URI', 'must start with mongodb:// or mongodb+srv://');
  }
  const refreshTokenTtl = readDuration(env, 'REFRESH_TOKEN_TTL', '30d');
  const sessionMaxAge = readDuration(env, 'SESSION_MAX_AGE', '90d');
  const bcryptCost = readInt(env, 'BCRYPT_COST', 12, 4, 31);
  if (isProduction && bcryptCost < 10) {
    throw new ConfigError('BCRYPT_COST', 'must be at least 10 in production');
  }
  return deepFreeze({
    nodeEnv,
    isProduction,
    port: readInt(env, 'PORT', 4000, 0, 65535),
    host: readText(env, 'HOST', isProduction ? '0.0.0.0' : '127.0.0.1'),
    mongodbUri,
    embeddedDb: readChoice<EmbeddedDbEngine>(
      env,
      'EMBEDDED_DB',
      ['auto', 'mongod', 'ferretdb'],
      'auto',
    ),
    jwt: readJwtConfig(env, isProduction),
    refreshTokenTtl,
    sessionMaxAge,
    bcryptCost,
    introspection: readBool(env, 'INTROSPECTION', !isProduction),
    sandbox: readBool(env, 'SANDBOX', !isProduction),
    rateLimit: {
      loginMaxFailures: readInt(env, 'LOGIN_MAX_FAILURES', 5, 1, 1000),
      loginFailureWindow: readDuration(env, 'LOGIN_FAILURE_WINDOW', '15m'),
      ipLimit: readInt(env, 'AUTH_IP_LIMIT', 300, 0, 1_000_000_000),
      ipWindow: readDuration(env, 'AUTH_IP_WINDOW', '15m'),
    },
    graphqlLimits: {
      maxDepth: readInt(env, 'GRAPHQL_MAX_DEPTH', 10, 1, 1000),
      maxAliases: readInt(env, 'GRAPHQL_MAX_ALIASES', 10, 0, 1000),
      maxDirectives: readInt(env, 'GRAPHQL_MAX_DIRECTIVES', 10, 0, 1000),
      maxTokens: readInt(env, 'GRAPHQL_MAX_TOKENS', 1000, 10, 1_000_000),
      maxCost: readInt(env, 'GRAPHQL_MAX_COST', 1000, 1, 1_000_000_000),
    },
    bodyLimit: readInt(env, 'BODY_LIMIT', 100 * 1024, 1024, 100 * 1024 * 1024),
    trustProxy: readTrustProxy(env),
    corsOrigins: readCorsOrigins(env, isProduction),
    passwordMinLength: readInt(env, 'PASSWORD_MIN_LENGTH', 8, 8, 64),
    logLevel: readChoice<LogLevel>(
      env,
      'LOG_LEVEL',
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      'info',
    ),
    shutdownTimeoutMs: readDuration(env, 'SHUTDOWN_TIMEOUT', '10s') * 1000,
  });
}

// Named ranges proxy-addr understands besides addresses and CIDR blocks.
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

function readTrustProxy(env: Env): TrustProxy {
  const raw = env.TRUST_PROXY?.trim();
  if (raw === undefined || raw === '') return false;
  if (/^\d+$/.test(raw)) return readInt(env, 'TRUST_PROXY', 0, 0, 100);
  if (/^(true|false|yes|no|on|off)$/i.test(raw)) return readBool(env, 'TRUST_PROXY', false);
  const entries = raw.split(',').map((entry) => entry.trim().toLowerCase());
  const bad = entries.find((entry) => !isAddressOrRange(entry));
  if (bad !== undefined) {
    throw new ConfigError(
      'TRUST_PROXY',
      `must be true, false, a hop count, or addresses/CIDR ranges separated by commas (got "${bad}")`,
    );
  }
  return entries;
}

const DEVELOPMENT_CORS_ORIGINS = [
  'http://localhost:*',
  'http://127.0.0.1:*',
  'http://[::1]:*',
  'https://studio.apollographql.com',
];
const ORIGIN_PATTERN = /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:(\d{1,5}|\*))?$/;

function readCorsOrigins(env: Env, isProduction: boolean): readonly string[] {
  const raw = env.CORS_ORIGINS?.trim();
  if (raw === undefined || raw === '') return isProduction ? [] : DEVELOPMENT_CORS_ORIGINS;
  if (raw.toLowerCase() === 'none') return [];
  return raw.split(',').map((entry) => {
    const origin = entry.trim().toLowerCase().replace(/\/$/, '');
    if (!ORIGIN_PATTERN.test(origin)) {
      throw new ConfigError(
        'CORS_ORIGINS',
        `must list origins such as https://app.example.com or http://localhost:* separated by commas (got "${entry.trim()}")`,
      );
    }
    return origin;
  });
}

/** Reads the settings of `npm run db`. */
export function loadDbServerConfig(env: Env = process.env): DbServerConfig {
  return deepFreeze({
    port: readInt(env, 'DB_PORT', 27017, 1, 65535),
    dataDir: readText(env, 'DB_DATA_DIR', '.data/db'),
    engine: readChoice<EmbeddedDbEngine>(
      env,
      'EMBEDDED_DB',
      ['auto', 'mongod', 'ferretdb'],
      'auto',
    ),
  });
}
