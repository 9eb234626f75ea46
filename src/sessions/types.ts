import type { RequestScope } from '../logging/requestScope';

/** Where a request came from, remembered on its session and counted by the throttles. */
export interface ClientInfo {
  readonly ip: string | null;
  readonly userAgent: string | null;
  /**
   * The request being served, named in the log and audit lines its services write; absent
   * outside an HTTP request (the command line, WebSocket messages, tests of a service alone).
   */
  readonly request?: RequestScope;
}

/** Who an access token speaks for: its user (`sub`) and session (`sid`). */
export interface Caller {
  readonly sub: string;
  readonly sid: string;
}
