import { ServiceUnavailableError } from '../errors';
import type { UserService } from '../accounts/users';
import type { Caller } from '../sessions/types';
import type { EventBus } from './eventBus';
import { viewFor, type SecurityEventView } from './securityEvents';

export interface SecurityEventService {
  /**
   * The caller's own security events from now on. Fails with INVALID_TOKEN when the caller's
   * session is revoked or the account is gone, and with SERVICE_UNAVAILABLE while events from
   * other instances cannot arrive.
   */
  stream(caller: Caller): Promise<AsyncIterableIterator<SecurityEventView>>;
}

export interface SecurityEventServiceDeps {
  readonly bus: EventBus;
  readonly users: Pick<UserService, 'current'>;
}

// A subscriber that stops reading must not make the server buffer without end; it loses the
// oldest events first (a socket that far behind is dead anyway).
const MAX_QUEUED = 100;

/** An async iterator fed by `subscribe`; `return()` (the client completing) unsubscribes. */
function listenerIterator<T>(
  subscribe: (push: (value: T) => void) => () => void,
): AsyncIterableIterator<T> {
  const queue: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let done = false;
  const unsubscribe = subscribe((value) => {
    if (done) return;
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value, done: false });
      return;
    }
    queue.push(value);
    if (queue.length > MAX_QUEUED) queue.shift();
  });
  const finish = (): Promise<IteratorResult<T>> => {
    if (!done) {
      done = true;
      unsubscribe();
      queue.length = 0;
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
    }
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    next() {
      const value = queue.shift();
      if (value !== undefined) return Promise.resolve({ value, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return: finish,
    throw: finish,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** The live stream of a user's security events behind the `securityEvents` subscription. */
export function createSecurityEventService(deps: SecurityEventServiceDeps): SecurityEventService {
  const { bus, users } = deps;
  return {
    async stream(caller) {
      // The same check as every guarded query: a revoked session gets nothing.
      await users.current(caller);
      if (!bus.available()) throw new ServiceUnavailableError('EVENTS_UNAVAILABLE');
      return listenerIterator<SecurityEventView>((push) =>
        bus.listenTo(caller.sub, (notice) => {
          const view = viewFor(notice, caller.sid);
          if (view) push(view);
        }),
      );
    },
  };
}
