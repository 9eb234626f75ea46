import type { Config } from '../config';
import type { Models } from '../db';
import { createAuthService, type AuthService } from './auth';
import { createAuthThrottle } from './authThrottle';
import { createPasswordHasher } from './password';
import { createRateLimiter } from './rateLimiter';
import { createRefreshTokenStore } from './refreshTokens';
import { createAccessTokens, type AccessTokens } from './tokens';
import { createUserService, type UserService } from './users';

/** Everything resolvers may call, built once per server. */
export interface Services {
  readonly auth: AuthService;
  readonly users: UserService;
  readonly accessTokens: AccessTokens;
}

/** Wires the services of one server instance to its configuration and models. */
export function createServices(config: Config, models: Models): Services {
  const accessTokens = createAccessTokens(config.jwt);
  const auth = createAuthService({
    models,
    passwords: createPasswordHasher(config.bcryptCost),
    accessTokens,
    refreshTokens: createRefreshTokenStore(config, models),
    throttle: createAuthThrottle(config.rateLimit, createRateLimiter(models)),
    passwordMinLength: config.passwordMinLength,
  });
  return { auth, users: createUserService(models), accessTokens };
}
