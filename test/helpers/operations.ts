import type { TestServer } from './testServer';

export const AUTH_FIELDS = `
  accessToken
  refreshToken
  tokenType
  expiresIn
  refreshTokenExpiresAt
  user { id email name roles createdAt }
`;

export const REGISTER = `mutation Register($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`;
export const LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
export const REFRESH = `mutation Refresh($token: String!) { refreshToken(refreshToken: $token) { ${AUTH_FIELDS} } }`;
export const LOGOUT = `mutation Logout($token: String!) { logout(refreshToken: $token) }`;
export const ME = `query Me { me { id email name roles createdAt } }`;

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
  refreshTokenExpiresAt: string;
  user: { id: string; email: string; name: string | null; roles: string[]; createdAt: string };
}

let counter = 0;

/** A fresh, valid email address for one test. */
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}.${process.pid}.${Date.now()}@example.com`;
}

export const GOOD_PASSWORD = 'correct horse battery staple';

/** Registers a user over HTTP and returns the payload; fails the test on any error. */
export async function registerUser(
  api: Pick<TestServer, 'gql'>,
  input: { email?: string; password?: string; name?: string } = {},
): Promise<AuthPayload> {
  const response = await api.gql<{ register: AuthPayload }>(REGISTER, {
    input: {
      email: input.email ?? uniqueEmail(),
      password: input.password ?? GOOD_PASSWORD,
      name: input.name,
    },
  });
  if (!response.body.data?.register) {
    throw new Error(`register failed: ${JSON.stringify(response.body.errors)}`);
  }
  return response.body.data.register;
}

/** The first error of a response, for assertions. */
export function firstError(response: {
  body: { errors?: Array<{ extensions?: Record<string, unknown>; path?: Array<string | number> }> };
}) {
  const error = response.body.errors?.[0];
  if (!error) throw new Error('expected an error, got none');
  return error;
}

/** The claims of a JWT, decoded without verification (tests inspect what the server signed). */
export function tokenClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
