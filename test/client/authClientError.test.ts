import { createAuthClient } from '../../client/authClient';
import { AuthClientError } from '../../client/authClientError';
import { UsersDocument } from '../../client/generated/graphql';
import { memoryTokenStorage } from '../../client/tokenStorage';
import { GOOD_PASSWORD, uniqueEmail } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer();
});

afterAll(async () => {
  await api.close();
});

describe('AuthClientError', () => {
  it('carries the scope sets of an INSUFFICIENT_SCOPE refusal from the real API', async () => {
    const client = createAuthClient({ url: `${api.url}/graphql`, storage: memoryTokenStorage() });
    await client.register({ email: uniqueEmail('scopes'), password: GOOD_PASSWORD });
    const error = await client.request(UsersDocument).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(AuthClientError);
    expect(error).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'INSUFFICIENT_SCOPE',
      requiredScopes: [['users:read']],
      policy: undefined,
    });
  });

  it('carries the policy of a POLICY_DENIED refusal, and ignores malformed details', () => {
    const denied = AuthClientError.fromResponse(
      [
        {
          message: 'no',
          extensions: { code: 'FORBIDDEN', reason: 'POLICY_DENIED', policy: 'self' },
        },
      ],
      200,
    );
    expect(denied).toMatchObject({ reason: 'POLICY_DENIED', policy: 'self' });
    const odd = AuthClientError.fromResponse(
      [{ message: 'no', extensions: { code: 'FORBIDDEN', requiredScopes: [[1]], policy: 2 } }],
      200,
    );
    expect(odd.requiredScopes).toBeUndefined();
    expect(odd.policy).toBeUndefined();
  });
});
