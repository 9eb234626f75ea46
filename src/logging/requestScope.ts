import { AsyncLocalStorage } from 'node:async_hooks';

/** What log lines written while serving one request should say about it. */
export interface RequestScope {
  /** The request id, also sent back in the `x-request-id` response header. */
  readonly requestId: string;
  /** The client's address as the server sees it (after TRUST_PROXY); what hashing is charged to. */
  readonly clientAddress?: string;
  /** The signed-in caller, once the bearer token has been verified. */
  actorId?: string;
  /** The GraphQL operation name, once Apollo has resolved it. */
  operation?: string;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` (and everything it starts) inside `scope`. */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the request being served, if any. */
export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}
