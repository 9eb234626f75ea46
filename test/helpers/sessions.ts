import {
  AUTH_FIELDS,
  GOOD_PASSWORD,
  LOGIN,
  REFRESH,
  tokenClaims,
  type AuthPayload,
} from './operations';
import type { GraphQLResponse, TestServer } from './testServer';

export const SESSIONS = `query Sessions { sessions { id createdAt lastUsedAt expiresAt userAgent ip current } }`;
export const LOGOUT_ALL = `mutation LogoutAll { logoutAll }`;
export const REVOKE_SESSION = `mutation RevokeSession($id: ID!) { revokeSession(id: $id) }`;
export const CHANGE_PASSWORD = `mutation ChangePassword($currentPassword: String!, $newPassword: String!) { changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { ${AUTH_FIELDS} } }`;
export const DELETE_ACCOUNT = `mutation DeleteAccount($password: String!) { deleteAccount(password: $password) }`;

export interface SessionView {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

/** Signs in once more (another device); fails the test on any error. */
export async function loginAgain(
  api: TestServer,
  email: string,
  options: { password?: string; userAgent?: string } = {},
): Promise<AuthPayload> {
  const response = await api.gql<{ login: AuthPayload }>(
    LOGIN,
    { input: { email, password: options.password ?? GOOD_PASSWORD } },
    { headers: options.userAgent ? { 'user-agent': options.userAgent } : {} },
  );
  if (!response.body.data?.login) {
    throw new Error(`login failed: ${JSON.stringify(response.body.errors)}`);
  }
  return response.body.data.login;
}

/** Exchanges a refresh token over HTTP. */
export function refresh(
  api: TestServer,
  token: string,
): Promise<GraphQLResponse<{ refreshToken: AuthPayload }>> {
  return api.gql<{ refreshToken: AuthPayload }>(REFRESH, { token });
}

/** The `sid` claim of an access token: its session id. */
export function sessionIdOf(accessToken: string): string {
  const payload = tokenClaims(accessToken);
  if (typeof payload.sid !== 'string') throw new Error('access token without sid');
  return payload.sid;
}
