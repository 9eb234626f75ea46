import { randomBytes } from 'node:crypto';

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
  /** JWT_SECRET: HMAC key. Required in production (at least 32 bytes); random per start otherwise. */
  readonly secret: string;
  /** True when JWT_SECRET was not set and a random development secret was generated. */
  readonly secretIsEphemeral: boolean;
  /** JWT_ISSUER, default `graphql-jwt-auth`: the `iss` claim written and required. */
  readonly issuer: string;
  /** JWT_AUDIENCE, default `graphql-jwt-auth`: the `aud` claim written and required. */
  readonly audience: string;
  /** ACCESS_TOKEN_TTL, default 15m: access token lifetime in seconds. */
  readonly accessTokenTtl: number;
  /** Clock skew tolerated when checking `exp` and `nbf`, in seconds. */
  readonly clockToleranceSeconds: number;
}

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

function readJwtConfig(env: Env, isProduction: boolean): JwtConfig {
  const algorithm = readChoice<JwtAlgorithm>(
    env,
    'JWT_ALGORITHM',
    ['HS256', 'RS256', 'ES256'],
    'HS256',
  );
  if (algorithm !== 'HS256') {
    throw new ConfigError('JWT_ALGORITHM', `${algorithm} is not supported yet; use HS256`);
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
  return {
    algorithm,
    secret,
    secretIsEphemeral,
    issuer: readText(env, 'JWT_ISSUER', 'graphql-jwt-auth'),
    audience: readText(env, 'JWT_AUDIENCE', 'graphql-jwt-auth'),
    accessTokenTtl: readDuration(env, 'ACCESS_TOKEN_TTL', '15m'),
    clockToleranceSeconds: 5,
  };
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const inner of Object.values(value)) {
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
    logLevel: readChoice<LogLevel>(
      env,
      'LOG_LEVEL',
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      'info',
    ),
    shutdownTimeoutMs: readDuration(env, 'SHUTDOWN_TIMEOUT', '10s') * 1000,
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
