import { silentAuditLog, type AuditLog } from './logging/audit';
import type { Config } from './config';
import type { Models } from './db/database';
import { createAccountService, type AccountService } from './accounts/account';
import { createAuthService, type AuthService } from './accounts/authentication';
import { createAuthThrottle } from './throttling/authThrottle';
import { createPasswordHasher } from './passwords/password';
import { createRateLimiter } from './throttling/rateLimiter';
import { withHashingAdmission } from './throttling/hashingAdmission';
import { withRegistrationProbeCount } from './throttling/registrationProbes';
import { sharedHashingPool } from './passwords/hashingPool';
import { createRefreshTokenStore } from './sessions/refreshTokens';
import { createTokenPurge, type TokenPurge } from './sessions/tokenPurge';
import type { EventLogger } from './logging/logger';
import { createSessionService, type SessionService } from './sessions/sessionService';
import { createAccessTokens, type AccessTokens } from './tokens/accessTokens';
import { createUserService, type UserService } from './accounts/users';
import { createMailQueue, type MailQueue } from './mail/sendQueue';
import { createMailTransport } from './mail/transport';
import {
  createEmailVerificationService,
  type EmailVerificationService,
} from './recovery/emailVerification';
import { createPasswordResetService, type PasswordResetService } from './recovery/passwordReset';
import { createRecoveryThrottle } from './recovery/recoveryThrottle';
import { createRecoveryTokenStore } from './recovery/recoveryTokenStore';
import { withVerificationMail } from './recovery/withVerificationMail';
import { publishingAuditLog } from './events/auditEvents';
import { createMemoryEventBus, type EventBus } from './events/eventBus';
import { withAuthMetrics } from './metrics/authMetrics';
import type { ApiMetrics } from './metrics/metrics';
import { observedLimiter } from './metrics/observedLimiter';
import {
  createSecurityEventService,
  type SecurityEventService,
} from './events/securityEventService';

/** Everything resolvers may call, built once per server. */
export interface Services {
  readonly auth: AuthService;
  readonly users: UserService;
  readonly sessions: SessionService;
  readonly account: AccountService;
  readonly accessTokens: AccessTokens;
  /** Scheduled clean-up of ended sessions and old throttle hits; the server starts and stops it. */
  readonly tokenPurge: TokenPurge;
  readonly passwordReset: PasswordResetService;
  readonly emailVerification: EmailVerificationService;
  /** Reset and verification mail, sent in the background; the server closes it. */
  readonly mail: MailQueue;
  /** Carries security events to subscribers, on this instance or all (docs/subscriptions.md). */
  readonly events: EventBus;
  /** The `securityEvents` subscription's stream. */
  readonly securityEvents: SecurityEventService;
}

export interface ServicesOptions {
  /** Receives the security audit events (login, reuse, revocations, role changes…). */
  readonly audit?: AuditLog;
  /** Receives purge reports. */
  readonly logger?: EventLogger;
  /** Time between purges of stale refresh tokens (default 10 minutes). */
  readonly tokenPurgeIntervalMs?: number;
  /** Waits between mail delivery attempts (default 5 s, 30 s, 2 min, 10 min). */
  readonly mailRetryDelaysMs?: readonly number[];
  /** The event bus; this instance only by default. */
  readonly events?: EventBus;
  /** Counts auth outcomes and throttle refusals (docs/operations.md, "Metrics"); none by default. */
  readonly metrics?: ApiMetrics;
}

const SILENT: EventLogger = { info: () => undefined, warn: () => undefined };

/** Wires the services of one server instance to its configuration, models and audit log. */
export function createServices(
  config: Config,
  models: Models,
  options: ServicesOptions = {},
): Services {
  const logger = options.logger ?? SILENT;
  const events = options.events ?? createMemoryEventBus();
  // Every audited sign-in, revocation and role change also becomes a live security event.
  const audit = publishingAuditLog(options.audit ?? silentAuditLog, events);
  const { metrics } = options;
  const accessTokens = createAccessTokens(config.jwt);
  const passwords = createPasswordHasher(config.bcryptCost);
  const refreshTokens = createRefreshTokenStore({ config, models, audit });
  const users = createUserService({
    models,
    refreshTokens,
    audit,
    roleScopes: config.jwt.roleScopes,
  });
  const limiter = metrics
    ? observedLimiter(createRateLimiter(models), metrics)
    : createRateLimiter(models);
  const throttle = createAuthThrottle(config.rateLimit, limiter, config.registrationLimits);
  const mail = createMailQueue({
    transport: createMailTransport(config.mail, logger),
    logger,
    retryDelaysMs: options.mailRetryDelaysMs,
  });
  const recoveryTokens = createRecoveryTokenStore(models);
  const recoveryThrottle = createRecoveryThrottle(config.recovery, limiter);
  const emailVerification = createEmailVerificationService({
    config: config.recovery,
    models,
    users,
    tokens: recoveryTokens,
    throttle: recoveryThrottle,
    mail,
    audit,
  });
  const authFlows = createAuthService({
    models,
    passwords,
    accessTokens,
    refreshTokens,
    throttle,
    passwordMinLength: config.passwordMinLength,
    audit,
    requireVerifiedEmail: config.recovery.requireVerifiedEmail,
  });
  const admitted = withHashingAdmission(
    withRegistrationProbeCount(withVerificationMail(authFlows, emailVerification), throttle),
    sharedHashingPool(),
  );
  // Outermost, so that a call the pool refuses at once is counted too.
  const auth = metrics ? withAuthMetrics(admitted, metrics) : admitted;
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
    passwordReset: createPasswordResetService({
      config: config.recovery,
      models,
      tokens: recoveryTokens,
      throttle: recoveryThrottle,
      authThrottle: throttle,
      mail,
      passwords,
      accessTokens,
      refreshTokens,
      audit,
      passwordMinLength: config.passwordMinLength,
    }),
    emailVerification,
    mail,
    events,
    securityEvents: createSecurityEventService({ bus: events, users }),
  };
}
