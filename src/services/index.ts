import { silentAuditLog, type AuditLog } from '../audit';
import type { Config } from '../config';
import type { Models } from '../db';
import { createAuthService, type AuthService } from './auth';
import { createPasswordHasher } from './password';
import { createRefreshTokenStore } from './refreshTokens';
import { createAccessTokens, type AccessTokens } from './tokens';
import { createUserService, type UserService } from './users';

/** Everything resolvers may call, built once per server. */
export interface Services {
  readonly auth: AuthService;
  readonly users: UserService;
  readonly accessTokens: AccessTokens;
}

/** Wires the services of one server instance to its configuration, models and audit log. */
export function createServices(
  config: Config,
  models: Models,
  audit: AuditLog = silentAuditLog,
): Services {
  const accessTokens = createAccessTokens(config.jwt);
  const auth = createAuthService({
    models,
    passwords: createPasswordHasher(config.bcryptCost),
    accessTokens,
    refreshTokens: createRefreshTokenStore(config, models, audit),
    audit,
  });
  return { auth, users: createUserService(models, audit), accessTokens };
}
