import type { BenchContext } from './benchContext';
import { graphQLData } from './graphqlRequest';
import { failures, runLoad } from './loadTest';
import type { Measured } from './measured';

const LOGIN = 'mutation Login($input: LoginInput!) { login(input: $input) { refreshToken } }';
const REFRESH =
  'mutation Refresh($token: String!) { refreshToken(refreshToken: $token) { accessToken refreshToken } }';

/**
 * Scenario 6: refresh-token rotations/s. Each connection keeps exchanging a refresh token for its
 * successor, so every request is a real rotation of a live session (a reused token would revoke
 * its session and fail the rest of the run).
 */
export async function runRefreshScenario(context: BenchContext): Promise<Measured> {
  const connections = context.profile.readConnections;
  const tokens: string[] = [];
  for (let i = 0; i < connections; i += 1) {
    const data = await graphQLData<{ login: { refreshToken: string } }>(context.graphqlUrl, LOGIN, {
      input: context.credentials,
    });
    tokens.push(data.login.refreshToken);
  }
  // autocannon builds a connection's next request right after reading its previous response, so
  // a shared pool hands each connection the successor of the token it has just used up.
  const refresh = await context.measure(context.api, () =>
    runLoad({
      url: context.graphqlUrl,
      connections,
      durationSeconds: context.profile.refreshSeconds,
      verifyBody: (body) => body.startsWith('{"data":{"refreshToken":{"accessToken":"'),
      requests: [
        {
          method: 'POST',
          path: '/graphql',
          setupRequest: (request) => ({
            ...request,
            body: JSON.stringify({ query: REFRESH, variables: { token: tokens.pop() ?? '' } }),
          }),
          onResponse: (_status, body) => {
            const next = /"refreshToken":"([^"]+)"/.exec(body)?.[1];
            if (next) tokens.push(next);
          },
        },
      ],
    }),
  );
  context.fail(failures(refresh.result), 'refresh');
  context.log(`refresh: ${refresh.result.perSecond.toFixed(1)} rotations/s`);
  return refresh;
}
