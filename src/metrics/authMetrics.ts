import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuthService } from '../accounts/authentication';
import { ClientError, RateLimitedError } from '../errors';
import type { AuditLog } from '../logging/audit';
import type { ApiMetrics, AuthOperation } from './metrics';

// Set while a refresh runs, so the reuse its audit event reports becomes that call's outcome.
const refreshing = new AsyncLocalStorage<{ reuse: boolean }>();

/** The outcome label of a failed call: a bounded set, taken from our own error classes. */
function outcomeOf(error: unknown): string {
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
  failure: (error: unknown) => string = outcomeOf,
): Promise<T> {
  try {
    const result = await call();
    metrics.authOutcome(operation, 'success');
    return result;
  } catch (error) {
    metrics.authOutcome(operation, failure(error));
    throw error;
  }
}

/** Counts the outcome of every `register`, `login` and `refreshToken` call. */
export function withAuthMetrics(auth: AuthService, metrics: ApiMetrics): AuthService {
  return {
    ...auth,
    register: (input, client) => counted(metrics, 'register', () => auth.register(input, client)),
    login: (input, client) => counted(metrics, 'login', () => auth.login(input, client)),
    refresh(token, client) {
      const state = { reuse: false };
      return counted(
        metrics,
        'refresh',
        () => refreshing.run(state, () => auth.refresh(token, client)),
        (error) => (state.reuse ? 'reuse_detected' : outcomeOf(error)),
      );
    },
  };
}

/** Passes every audit event on, and marks the refresh it happened in as a detected reuse. */
export function reuseMarkingAuditLog(audit: AuditLog): AuditLog {
  return (event, fields) => {
    if (event === 'refresh_token_reuse_detected') {
      const state = refreshing.getStore();
      if (state) state.reuse = true;
    }
    audit(event, fields);
  };
}
