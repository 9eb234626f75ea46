import { readJwtConfig, type JwtConfig } from './jwt';
import { readMailConfig, readRecoveryConfig, type MailConfig, type RecoveryConfig } from './mail';
import { readCorsOrigins, readTrustProxy, type TrustProxy } from './network';
import { readSubscriptionsConfig, type SubscriptionsConfig } from './subscriptions';
import {
  collectConfigErrors,
  deepFreeze,
  invalid,
  readBool,
  readChoice,
  readDuration,
  readDurationOrOff,
  readInt,
  readOptionalInt,
  readText,
  type Env,
} from './readers';

export { ConfigError, parseDuration } from './readers';
export type { JwtAlgorithm, JwtConfig } from './jwt';
export type { TrustProxy } from './network';
export type { MailConfig, RecoveryConfig } from './mail';
export type { SubscriptionsConfig } from './subscriptions';
export { DEFAULT_ROLE_SCOPES, isScope, ROLES } from './scopes';
export type { RoleName, RoleScopes } from './scopes';

/** Node environments the server knows; anything but `production` is treated as development. */
export const NODE_ENVS = ['development', 'test', 'production'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

/** Pino log levels, from most to least verbose, plus `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * How log lines are written: `json` (one object a line, for collectors), `pretty` (coloured and
 * readable, for a developer's terminal) or `auto` (pretty in development on a terminal, else JSON).
 */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Which embedded database `npm run dev`, `npm run db` and the tests start when MONGODB_URI is unset. */
export const EMBEDDED_DB_ENGINES = ['auto', 'mongod', 'ferretdb'] as const;
export type EmbeddedDbEngine = (typeof EMBEDDED_DB_ENGINES)[number];

/** Login and registration throttling (counters live in MongoDB, so every instance shares them). */
export interface RateLimitConfig {
  /** LOGIN_MAX_FAILURES, default 5: failed logins per account (normalised email) per window. */
  readonly loginMaxFailures: number;
  /** LOGIN_FAILURE_WINDOW, default 15m, in seconds. */
  readonly loginFailureWindow: number;
  /**
   * AUTH_IP_LIMIT, default 300: registrations, failed logins and failed refreshes per client IP per
   * window (successful ones are not counted); 0 turns it off.
   */
  readonly ipLimit: number;
  /** AUTH_IP_WINDOW, default 15m, in seconds. */
  readonly ipWindow: number;
}

/** Registration throttling, on top of the per-IP ceiling (docs/security.md, "Registration"). */
export interface RegistrationLimitsConfig {
  /** REGISTER_IP_LIMIT, default 50: registrations per client IP per window; 0 turns it off. */
  readonly ipLimit: number;
  /** REGISTER_IP_WINDOW, default 1h, in seconds. */
  readonly ipWindow: number;
  /** REGISTER_EMAIL_LIMIT, default 5: EMAIL_TAKEN answers for one (normalised) address per window. */
  readonly emailLimit: number;
  /** REGISTER_EMAIL_WINDOW, default 1h, in seconds. */
  readonly emailWindow: number;
}

/** The documented defaults of {@link RegistrationLimitsConfig}. */
export const DEFAULT_REGISTRATION_LIMITS: RegistrationLimitsConfig = Object.freeze({
  ipLimit: 50,
  ipWindow: 3600,
  emailLimit: 5,
  emailWindow: 3600,
});

/** The Prometheus endpoint (docs/operations.md, "Metrics"). */
export interface MetricsConfig {
  /**
   * METRICS_PORT, default unset (off): port of the separate `/metrics` listener, on the API's
   * HOST; 0 picks a free port (tests).
   */
  readonly port: number | undefined;
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
  /**
   * REFRESH_TOKEN_COOKIE, default false: hand refresh tokens to browsers as an HttpOnly cookie
   * instead of in the response body (docs/sessions.md, "Cookie mode"). API clients use the body.
   */
  readonly refreshTokenCookie: boolean;
  /**
   * REFRESH_REUSE_GRACE, default 10s (at most 5m), in seconds; 0 turns it off: how long the refresh
   * token just exchanged still yields the same successor instead of counting as reuse
   * (docs/sessions.md, "Grace window").
   */
  readonly refreshReuseGrace: number;
  /** BCRYPT_COST, default 12 (at least 10 in production; tests may lower it to 4). */
  readonly bcryptCost: number;
  /** INTROSPECTION, default on outside production and off in production. */
  readonly introspection: boolean;
  /** SANDBOX, default on outside production: Apollo Sandbox landing page at the endpoint. */
  readonly sandbox: boolean;
  readonly rateLimit: RateLimitConfig;
  readonly registrationLimits: RegistrationLimitsConfig;
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
  /** LOG_LEVEL, default info: log lines on stdout at this level and above. */
  readonly logLevel: LogLevel;
  /** LOG_FORMAT, default auto: pretty lines in development on a terminal, JSON otherwise. */
  readonly logFormat: LogFormat;
  /** SHUTDOWN_TIMEOUT, default 10s: how long in-flight requests may finish after SIGTERM, in ms. */
  readonly shutdownTimeoutMs: number;
  readonly mail: MailConfig;
  readonly recovery: RecoveryConfig;
  /** WebSocket subscriptions and the optional Redis fan-out (docs/subscriptions.md). */
  readonly subscriptions: SubscriptionsConfig;
  readonly metrics: MetricsConfig;
}

/** Settings of the standalone embedded database (`npm run db`). */
export interface DbServerConfig {
  /** DB_PORT, default 27017. */
  readonly port: number;
  /** DB_DATA_DIR, default `.data/db`: kept across restarts. */
  readonly dataDir: string;
  readonly engine: EmbeddedDbEngine;
}

// Every second of grace is a second in which a stolen, already exchanged token still works.
const MAX_REFRESH_REUSE_GRACE = 300;

/**
 * Reads and validates the environment once. Throws one {@link ConfigError} naming every bad
 * variable; the returned object is deeply frozen.
 */
export function loadConfig(env: Env = process.env): Config {
  return collectConfigErrors(() => readConfig(env));
}

function readConfig(env: Env): Config {
  const nodeEnv = readChoice(env, 'NODE_ENV', NODE_ENVS, 'development');
  const isProduction = nodeEnv === 'production';
  const mongodbUri = env.MONGODB_URI?.trim() || undefined;
  if (isProduction && !mongodbUri) {
    invalid('MONGODB_URI', 'is required in production (no embedded database there)', undefined);
  }
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    invalid('MONGODB_URI', 'must start with mongodb:// or mongodb+srv://', undefined);
  }
  const refreshTokenTtl = readDuration(env, 'REFRESH_TOKEN_TTL', '30d');
  const sessionMaxAge = readDuration(env, 'SESSION_MAX_AGE', '90d');
  const refreshReuseGrace = readDurationOrOff(env, 'REFRESH_REUSE_GRACE', '10s');
  if (refreshReuseGrace > MAX_REFRESH_REUSE_GRACE) {
    invalid('REFRESH_REUSE_GRACE', 'must be at most 5m (a stolen token is honoured that long)', 0);
  }
  const bcryptCost = readInt(env, 'BCRYPT_COST', 12, 4, 31);
  if (isProduction && bcryptCost < 10) {
    invalid('BCRYPT_COST', 'must be at least 10 in production', bcryptCost);
  }
  return deepFreeze({
    nodeEnv,
    isProduction,
    port: readInt(env, 'PORT', 4000, 0, 65535),
    host: readText(env, 'HOST', isProduction ? '0.0.0.0' : '127.0.0.1'),
    mongodbUri,
    embeddedDb: readChoice(env, 'EMBEDDED_DB', EMBEDDED_DB_ENGINES, 'auto'),
    jwt: readJwtConfig(env, isProduction),
    refreshTokenTtl,
    sessionMaxAge,
    refreshTokenCookie: readBool(env, 'REFRESH_TOKEN_COOKIE', false),
    refreshReuseGrace,
    bcryptCost,
    introspection: readBool(env, 'INTROSPECTION', !isProduction),
    sandbox: readBool(env, 'SANDBOX', !isProduction),
    rateLimit: {
      loginMaxFailures: readInt(env, 'LOGIN_MAX_FAILURES', 5, 1, 1000),
      loginFailureWindow: readDuration(env, 'LOGIN_FAILURE_WINDOW', '15m'),
      ipLimit: readInt(env, 'AUTH_IP_LIMIT', 300, 0, 1_000_000_000),
      ipWindow: readDuration(env, 'AUTH_IP_WINDOW', '15m'),
    },
    registrationLimits: {
      ipLimit: readInt(
        env,
        'REGISTER_IP_LIMIT',
        DEFAULT_REGISTRATION_LIMITS.ipLimit,
        0,
        1_000_000_000,
      ),
      ipWindow: readDuration(env, 'REGISTER_IP_WINDOW', '1h'),
      emailLimit: readInt(
        env,
        'REGISTER_EMAIL_LIMIT',
        DEFAULT_REGISTRATION_LIMITS.emailLimit,
        1,
        1000,
      ),
      emailWindow: readDuration(env, 'REGISTER_EMAIL_WINDOW', '1h'),
    },
    graphqlLimits: {
      maxDepth: readInt(env, 'GRAPHQL_MAX_DEPTH', 10, 1, 1000),
      maxAliases: readInt(env, 'GRAPHQL_MAX_ALIASES', 10, 0, 1000),
      maxDirectives: readInt(env, 'GRAPHQL_MAX_DIRECTIVES', 10, 0, 1000),
      maxTokens: readInt(env, 'GRAPHQL_MAX_TOKENS', 1000, 10, 1_000_000),
      maxCost: readInt(env, 'GRAPHQL_MAX_COST', 1000, 1, 1_000_000_000),
    },
    bodyLimit: readInt(env, 'BODY_LIMIT', 100 * 1024, 1024, 100 * 1024 * 1024),
    trustProxy: readTrustProxy(env, isProduction),
    corsOrigins: readCorsOrigins(env, isProduction),
    passwordMinLength: readInt(env, 'PASSWORD_MIN_LENGTH', 8, 8, 64),
    logLevel: readChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: readChoice(env, 'LOG_FORMAT', LOG_FORMATS, 'auto'),
    shutdownTimeoutMs: readDuration(env, 'SHUTDOWN_TIMEOUT', '10s') * 1000,
    mail: readMailConfig(env, nodeEnv),
    recovery: readRecoveryConfig(env),
    subscriptions: readSubscriptionsConfig(env),
    metrics: { port: readOptionalInt(env, 'METRICS_PORT', 0, 65535) },
  });
}

/** Reads the settings of `npm run db`. */
export function loadDbServerConfig(env: Env = process.env): DbServerConfig {
  return collectConfigErrors(() => readDbServerConfig(env));
}

function readDbServerConfig(env: Env): DbServerConfig {
  return deepFreeze({
    port: readInt(env, 'DB_PORT', 27017, 1, 65535),
    dataDir: readText(env, 'DB_DATA_DIR', '.data/db'),
    engine: readChoice(env, 'EMBEDDED_DB', EMBEDDED_DB_ENGINES, 'auto'),
  });
}
