/** Where a request came from, remembered on its session and counted by the throttles. */
export interface ClientInfo {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** Who an access token speaks for: its user (`sub`) and session (`sid`). */
export interface Caller {
  readonly sub: string;
  readonly sid: string;
}
