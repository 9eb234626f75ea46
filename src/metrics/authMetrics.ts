import type { AuthService } from '../accounts/authentication';
import { ClientError, RateLimitedError, RefreshTokenReuseError } from '../errors';
import type { ApiMetrics, AuthOperation } from './metrics';

/** The outcome label of a failed call: a bounded set, taken from our own error classes. */
function outcomeOf(error: unknown): string {
  if (error instanceof RefreshTokenReuseError) return 'reuse_detected';
  if (error instanceof RateLimitedError) return 'rate_limited';
  if (error instanceof ClientError) {
    const { reason } = error.extensions;
    return (typeof reason === 'string' ? reason : error.code).toLowerCase();
  }
  return 'error';
}

async function counted<T>(
  metrics: ApiMetrics,
  operation: AuthOperation,
  call: () => Promise<T>,
): Promise<T> {
  try {
    const result = await call();
    metrics.authOutcome(operation, 'success');
    return result;
  } catch (error) {
    metrics.authOutcome(operation, outcomeOf(error));
    throw error;
  }
}

/** Counts the outcome of every `register`, `login` and `refreshToken` call. */
export function withAuthMetrics(auth: AuthService, metrics: ApiMetrics): AuthService {
  return {
    ...auth,
    register: (input, client) => counted(metrics, 'register', () => auth.register(input, client)),
    login: (input, client) => counted(metrics, 'login', () => auth.login(input, client)),
    refresh: (token, client) => counted(metrics, 'refresh', () => auth.refresh(token, client)),
  };
}
