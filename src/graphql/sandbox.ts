import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';

/**
 * What Apollo Sandbox opens with: a login to run first, then `me`, and an `Authorization` header
 * waiting for the access token the login returns.
 */
export const SANDBOX_DOCUMENT = `# 1. Run Login, copy data.login.accessToken into the Authorization header below.
# 2. Run Me. (No account yet? Run Register with the same variables first.)
mutation Login($input: LoginInput!) {
  login(input: $input) {
    accessToken
    refreshToken
    expiresIn
    user { id email roles }
  }
}

mutation Register($input: RegisterInput!) {
  register(input: $input) {
    accessToken
    refreshToken
    user { id email }
  }
}

query Me {
  me { id email name roles createdAt }
}
`;

export const SANDBOX_VARIABLES = {
  input: { email: 'ada@example.com', password: 'correct horse battery staple' },
};

export const SANDBOX_HEADERS = { Authorization: 'Bearer <paste accessToken here>' };

/** Apollo Sandbox at the endpoint when SANDBOX is on (development), no landing page otherwise. */
export function landingPagePlugin(sandbox: boolean): ApolloServerPlugin {
  if (!sandbox) return ApolloServerPluginLandingPageDisabled();
  return ApolloServerPluginLandingPageLocalDefault({
    embed: true,
    // Bearer tokens only: Sandbox sends no cookies of this origin.
    includeCookies: false,
    document: SANDBOX_DOCUMENT,
    variables: SANDBOX_VARIABLES,
    headers: SANDBOX_HEADERS,
  });
}
