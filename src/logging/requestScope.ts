/**
 * What the log and audit lines written while serving one request say about it. One is made per
 * HTTP request (src/http/requestLogging.ts) and handed down explicitly, as `ClientInfo.request`,
 * to the services that write such lines. Not through AsyncLocalStorage: on Node 20 its hooks run
 * for every promise of every request, which cost about a tenth of the API's CPU on a guarded read
 * (docs/performance.md, "The read path").
 */
export interface RequestScope {
  /** The request id, also sent back in the `x-request-id` response header. */
  readonly requestId: string;
  /** The signed-in caller, once the bearer token has been verified. */
  actorId?: string;
  /** The GraphQL operation name, once Apollo has resolved it. */
  operation?: string;
}
