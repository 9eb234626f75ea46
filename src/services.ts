import { silentAuditLog, type AuditLog } from './logging/audit';
import type { Config } from './config';
import type { Models } from './db/database';
import { createAccountService, type AccountService } from './accounts/account';
import { createAuthService, type AuthService } from './accounts/authentication';
import { createAuthThrottle } from './throttling/authThrottle';
import { createPasswordHasher } from './passwords/password';
import { createRateLimiter } from './throttling/rateLimiter';
import { createRefreshTokenStore } from './sessions/refreshTokens';
import { createTokenPurge, type TokenPurge } from './sessions/tokenPurge';
import type { EventLogger } from './logging/logger';
import { createSessionService, type SessionService } from './sessions/sessionService';
import { createAccessTokens, type AccessTokens } from './tokens/accessTokens';
import { createUserService, type UserService } from './accounts/users';

/** Everything resolvers may call, built once per server. */
export interface Services {
  readonly auth: AuthService;
  readonly users: UserService;
  readonly sessions: SessionService;
  readonly account: AccountService;
  readonly accessTokens: AccessTokens;
  /** Scheduled clean-up of ended sessions and old throttle hits; the server starts and stops it. */
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
  const refreshTokens = createRefreshTokenStore({ config, models, audit });
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
      jwt: config.jwt,
      logger,
      intervalMs: options.tokenPurgeIntervalMs,
    }),
  };
}
