import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '../../errors';

/**
 * Adds `Retry-After` (RFC 9110 §10.2.3) to responses carrying RATE_LIMITED errors: the longest
 * `extensions.retryAfter` among them, so the header and the error always agree.
 */
export function retryAfterHeaderPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        willSendResponse({ response }) {
          if (response.body.kind !== 'single') return Promise.resolve();
          let seconds = 0;
          for (const error of response.body.singleResult.errors ?? []) {
            const { code, retryAfter } = error.extensions ?? {};
            if (code === ErrorCode.RATE_LIMITED && typeof retryAfter === 'number') {
              seconds = Math.max(seconds, retryAfter);
            }
          }
          if (seconds > 0) response.http.headers.set('retry-after', String(seconds));
          return Promise.resolve();
        },
      });
    },
  };
}
