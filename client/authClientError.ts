/** One entry of a GraphQL response's `errors`, as the API formats it. */
export interface GraphQLErrorEntry {
  readonly message: string;
  readonly path?: ReadonlyArray<string | number>;
  readonly extensions?: Readonly<Record<string, unknown>>;
}

/**
 * The `extensions.reason` values of the API (docs/api.md, "Errors"). Any other string may still
 * arrive from a newer server, hence the open end.
 */
export type AuthErrorReason =
  | 'MISSING_TOKEN'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_REFRESH_TOKEN'
  | 'INVALID_RESET_TOKEN'
  | 'INVALID_VERIFICATION_TOKEN'
  | 'MISSING_ROLE'
  | 'FRESH_TOKEN_REQUIRED'
  | 'INSUFFICIENT_SCOPE'
  | 'POLICY_DENIED'
  | 'EMAIL_NOT_VERIFIED'
  | 'LAST_ADMIN'
  | 'CSRF_CHECK_FAILED'
  | 'EMAIL_TAKEN'
  | 'INVALID_EMAIL'
  | 'WEAK_PASSWORD'
  | 'PASSWORD_TOO_LONG'
  | 'INVALID_NAME'
  | 'INVALID_ID'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | (string & {});

/**
 * Why a call failed. `code` and `reason` are the API's `extensions.code` and `extensions.reason`
 * (for example `UNAUTHENTICATED` / `INVALID_RESET_TOKEN`, `FORBIDDEN` / `EMAIL_NOT_VERIFIED`), or
 * `NETWORK_ERROR` / `BAD_RESPONSE` when no GraphQL answer arrived.
 */
export class AuthClientError extends Error {
  readonly code: string;
  readonly reason: AuthErrorReason | undefined;
  /** The input field a `BAD_USER_INPUT` error is about, when the API names one. */
  readonly field: string | undefined;
  /**
   * With `INSUFFICIENT_SCOPE`: the scope sets the field accepts; a token granting every scope of
   * any one of them would pass.
   */
  readonly requiredScopes: ReadonlyArray<ReadonlyArray<string>> | undefined;
  /** With `POLICY_DENIED`: the name of the policy that refused. */
  readonly policy: string | undefined;
  /** HTTP status of the response, when there was one. */
  readonly status: number | undefined;
  /** Every error of the response, for callers that need more than the first. */
  readonly errors: readonly GraphQLErrorEntry[];

  constructor(
    message: string,
    details: {
      code: string;
      reason?: string;
      field?: string;
      requiredScopes?: ReadonlyArray<ReadonlyArray<string>>;
      policy?: string;
      status?: number;
      errors?: readonly GraphQLErrorEntry[];
      cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
    this.name = 'AuthClientError';
    this.code = details.code;
    this.reason = details.reason;
    this.field = details.field;
    this.requiredScopes = details.requiredScopes;
    this.policy = details.policy;
    this.status = details.status;
    this.errors = details.errors ?? [];
  }

  /** Builds the error for a response's first GraphQL error. */
  static fromResponse(errors: readonly GraphQLErrorEntry[], status: number): AuthClientError {
    const first = errors[0];
    const extensions = first?.extensions ?? {};
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const isScopeSets = (value: unknown): value is string[][] =>
      Array.isArray(value) &&
      value.every((set) => Array.isArray(set) && set.every((scope) => typeof scope === 'string'));
    const scopeSets = (value: unknown) => (isScopeSets(value) ? value : undefined);
    return new AuthClientError(first?.message ?? 'The request failed', {
      code: text(extensions.code) ?? 'INTERNAL_SERVER_ERROR',
      reason: text(extensions.reason),
      field: text(extensions.field),
      requiredScopes: scopeSets(extensions.requiredScopes),
      policy: text(extensions.policy),
      status,
      errors,
    });
  }
}
