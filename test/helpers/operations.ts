import type { AuthPayloadFieldsFragment } from '../../client/generated/graphql';
import { LoginDocument, RegisterDocument } from '../../client/generated/graphql';
import type { TestServer } from './testServer';

// The operations tests send are the client's own (client/operations/*.graphql), typed by codegen,
// so a schema change that breaks a frontend breaks these tests too.
export {
  LoginDocument as LOGIN,
  LogoutDocument as LOGOUT,
  MeDocument as ME,
  RefreshTokenDocument as REFRESH,
  RegisterDocument as REGISTER,
} from '../../client/generated/graphql';

/**
 * An `AuthPayload` from a server in body mode, the default, where `refreshToken` is always a string
 * (it is null only in cookie mode: docs/sessions.md, "Cookie mode").
 */
export type AuthPayload = AuthPayloadFieldsFragment & { readonly refreshToken: string };

/** Narrows a body-mode payload; fails the test when the refresh token is missing. */
export function bodyPayload(payload: AuthPayloadFieldsFragment): AuthPayload {
  const { refreshToken } = payload;
  if (refreshToken === null) throw new Error('expected the refresh token in the response body');
  return { ...payload, refreshToken };
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
  const response = await api.gql(RegisterDocument, {
    input: {
      email: input.email ?? uniqueEmail(),
      password: input.password ?? GOOD_PASSWORD,
      name: input.name,
    },
  });
  if (!response.body.data?.register) {
    throw new Error(`register failed: ${JSON.stringify(response.body.errors)}`);
  }
  return bodyPayload(response.body.data.register);
}

/**
 * Registers a user, makes them ADMIN in the database and signs them in again, so the payload's
 * token is fresh and carries the role.
 */
export async function registerAdmin(
  api: Pick<TestServer, 'gql' | 'database'>,
): Promise<AuthPayload> {
  const registered = await registerUser(api);
  await api.database.models.User.updateOne(
    { _id: registered.user.id },
    { $set: { roles: ['USER', 'ADMIN'] } },
  );
  const response = await api.gql(LoginDocument, {
    input: { email: registered.user.email, password: GOOD_PASSWORD },
  });
  if (!response.body.data?.login) {
    throw new Error(`login failed: ${JSON.stringify(response.body.errors)}`);
  }
  return bodyPayload(response.body.data.login);
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
