import type { SessionFieldsFragment } from '../../client/generated/graphql';
import {
  bodyPayload,
  GOOD_PASSWORD,
  LOGIN,
  REFRESH,
  tokenClaims,
  type AuthPayload,
} from './operations';
import type { GraphQLResponse, TestServer } from './testServer';

export {
  ChangePasswordDocument as CHANGE_PASSWORD,
  DeleteAccountDocument as DELETE_ACCOUNT,
  LogoutAllDocument as LOGOUT_ALL,
  RevokeSessionDocument as REVOKE_SESSION,
  SessionsDocument as SESSIONS,
} from '../../client/generated/graphql';

export type SessionView = SessionFieldsFragment;

/** Signs in once more (another device); fails the test on any error. */
export async function loginAgain(
  api: TestServer,
  email: string,
  options: { password?: string; userAgent?: string } = {},
): Promise<AuthPayload> {
  const response = await api.gql(
    LOGIN,
    { input: { email, password: options.password ?? GOOD_PASSWORD } },
    { headers: options.userAgent ? { 'user-agent': options.userAgent } : {} },
  );
  if (!response.body.data?.login) {
    throw new Error(`login failed: ${JSON.stringify(response.body.errors)}`);
  }
  return bodyPayload(response.body.data.login);
}

/** Exchanges a refresh token over HTTP, with a body-mode server. */
export async function refresh(
  api: Pick<TestServer, 'gql'>,
  token: string,
): Promise<GraphQLResponse<{ refreshToken: AuthPayload }>> {
  const response = await api.gql(REFRESH, { refreshToken: token });
  const payload = response.body.data?.refreshToken;
  return {
    ...response,
    body: { ...response.body, data: payload ? { refreshToken: bodyPayload(payload) } : null },
  };
}

/** The `sid` claim of an access token: its session id. */
export function sessionIdOf(accessToken: string): string {
  const payload = tokenClaims(accessToken);
  if (typeof payload.sid !== 'string') throw new Error('access token without sid');
  return payload.sid;
}
