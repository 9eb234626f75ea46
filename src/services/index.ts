import { silentAuditLog, type AuditLog } from '../audit';
import type { Config } from '../config';
import type { Models } from '../db';
import { createAccountService, type AccountService } from './account';
import { createAuthService, type AuthService } from './auth';
import { createAuthThrottle } from './authThrottle';
import { createPasswordHasher } from './password';
import { createRateLimiter } from './rateLimiter';
import { createRefreshTokenStore } from './refreshTokens';
import { createRevokedSessionList } from './revokedSessions';
import { createTokenPurge, type EventLogger, type TokenPurge } from './tokenPurge';
import { createSessionService, type SessionService } from './sessions';
import { createAccessTokens, type AccessTokens } from './tokens';
import { createUserService, type UserService } from './users';

/** Everything resolvers may call, built once per server. */
export interface Services {
  readonly auth: AuthService;
  readonly users: UserService;
  readonly sessions: SessionService;
  readonly account: AccountService;
  readonly accessTokens: AccessTokens;
  /** Scheduled clean-up of stale refresh tokens; the server starts and stops it. */
  readonly tokenPurge: TokenPurge;
}

export interface ServicesOptions {
  /** Receives the security audit events (login, reuse, revocations, role changes…). */
  readonly audit?: AuditLog;
  /** Receives purge reports. */
  readonly logger?: EventLogger;
  /** Time between purges of stale refresh tokens (default 10 minutes). */
  readonly tokenPurgeIntervalMs?: number;
}

const SILENT: EventLogger = { info: () => undefined, warn: () => undefined };

/** Wires the services of one server instance to its configuration, models and audit log. */
export function createServices(
  config: Config,
  models: Models,
  options: ServicesOptions = {},
): Services {
  const logger = options.logger ?? SILENT;
  const audit = options.audit ?? silentAuditLog;
  const accessTokens = createAccessTokens(config.jwt);
  const passwords = createPasswordHasher(config.bcryptCost);
  const revokedSessions = createRevokedSessionList(config.jwt, models);
  const refreshTokens = createRefreshTokenStore({ config, models, revokedSessions, audit });
  const users = createUserService(models, audit);
  const throttle = createAuthThrottle(config.rateLimit, createRateLimiter(models));
  const auth = createAuthService({
    models,
    passwords,
    accessTokens,
    refreshTokens,
    throttle,
    passwordMinLength: config.passwordMinLength,
    audit,
  });
  return {
    auth,
    users,
    sessions: createSessionService({ users, refreshTokens, audit }),
    account: createAccountService({
      models,
      users,
      passwords,
      accessTokens,
      refreshTokens,
      audit,
      throttle,
      passwordMinLength: config.passwordMinLength,
    }),
    accessTokens,
    tokenPurge: createTokenPurge({
      models,
      revokedSessions,
      logger,
      intervalMs: options.tokenPurgeIntervalMs,
    }),
  };
}
