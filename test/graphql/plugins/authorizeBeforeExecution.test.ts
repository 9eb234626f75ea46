import { parse, subscribe, type ExecutionResult } from 'graphql';
import { buildContext } from '../../../src/graphql/context';
import { DateTime } from '../../../src/graphql/resolvers/DateTime';
import { buildGuardedSchema, loadTypeDefs } from '../../../src/graphql/schema';
import {
  LogoutAllDocument,
  SessionsDocument,
  SetUserRolesDocument,
} from '../../../client/generated/graphql';
import { registerUser, uniqueEmail, GOOD_PASSWORD } from '../../helpers/operations';
import { startTestServer, type TestServer } from '../../helpers/testServer';
import { accessTokenClaims, forgeAccessToken } from '../../helpers/tokens';

describe('decided before execution, on the API', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
  });

  afterAll(async () => {
    await api.close();
  });

  it('runs nothing of an anonymous mutation that also asks for a guarded field', async () => {
    const email = uniqueEmail('partial');
    const response = await api.gql(
      `mutation ($input: RegisterInput!) {
        register(input: $input) { accessToken user { id email } }
        logoutAll
      }`,
      { input: { email, password: GOOD_PASSWORD } },
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      data: null,
      errors: [
        expect.objectContaining({
          path: ['logoutAll'],
          extensions: { code: 'UNAUTHENTICATED', reason: 'MISSING_TOKEN' },
        }),
      ],
    });
    expect(await api.database.models.User.countDocuments({ email })).toBe(0);
  });

  it('refuses a mutation denied on scope before its sibling ends any session', async () => {
    const user = await registerUser(api);
    const response = await api.gql(
      `mutation ($id: ID!) {
        logoutAll
        setUserRoles(userId: $id, roles: [ADMIN]) { id }
      }`,
      { id: user.user.id },
      { token: user.accessToken },
    );
    expect(response.body.data).toBeNull();
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        path: ['setUserRoles'],
        extensions: {
          code: 'FORBIDDEN',
          reason: 'INSUFFICIENT_SCOPE',
          requiredScopes: [['users:write']],
        },
      }),
    ]);
    // logoutAll did not run: the session still works, and the roles are unchanged.
    const sessions = await api.gql(SessionsDocument, {}, { token: user.accessToken });
    expect(sessions.body.data?.sessions).toHaveLength(1);
    expect((await api.database.models.User.findById(user.user.id))?.roles).toEqual(['USER']);
  });

  it('lets the client send each of those operations alone', async () => {
    const user = await registerUser(api);
    const roles = await api.gql(
      SetUserRolesDocument,
      { userId: user.user.id, roles: ['ADMIN'] },
      { token: user.accessToken },
    );
    expect(roles.body.errors?.[0]?.extensions?.reason).toBe('INSUFFICIENT_SCOPE');
    const logout = await api.gql(LogoutAllDocument, {}, { token: user.accessToken });
    expect(logout.body.data).toEqual({ logoutAll: 1 });
  });
});

// A schema of its own: a mutation with a visible side effect, a guarded field below it, and a
// guarded subscription.
const typeDefs = /* GraphQL */ `
  type Query {
    counter: Counter @public
  }
  type Mutation {
    bump: Counter @public
  }
  type Subscription {
    ticks: Int @auth(scopes: [["ticks:read"]])
  }
  type Counter {
    value: Int
    audit: String @auth(requires: [ADMIN])
  }
`;

describe('decided before execution, on a schema of its own', () => {
  let api: TestServer;
  let value = 0;
  let subscribed = 0;

  const resolvers = {
    DateTime,
    Query: { counter: () => ({ value }) },
    Mutation: {
      bump: () => {
        value += 1;
        return { value };
      },
    },
    Counter: { audit: () => 'audit' },
    Subscription: {
      ticks: {
        subscribe: async function* ticks() {
          subscribed += 1;
          for (let tick = 1; tick <= 2; tick += 1) yield await Promise.resolve({ ticks: tick });
        },
      },
    },
  };

  const schema = buildGuardedSchema({
    typeDefs: [
      ...loadTypeDefs().filter(
        (sdl) => sdl.includes('directive @auth') || sdl.includes('enum Role'),
      ),
      typeDefs,
    ],
    resolvers,
  });

  const user = () => forgeAccessToken(accessTokenClaims({ roles: ['USER'] }));
  const admin = () => forgeAccessToken(accessTokenClaims({ roles: ['ADMIN'] }));
  const ticker = () =>
    forgeAccessToken(accessTokenClaims({ roles: ['USER'], scope: 'ticks:* other' }));

  beforeAll(async () => {
    api = await startTestServer({ schema });
  });

  afterAll(async () => {
    await api.close();
  });

  it('refuses a mutation whose nested field is denied, before its resolver changes anything', async () => {
    const before = value;
    const response = await api.gql('mutation { bump { value audit } }', {}, { token: user() });
    expect(response.body).toEqual({
      data: null,
      errors: [
        expect.objectContaining({
          path: ['bump', 'audit'],
          extensions: { code: 'FORBIDDEN', reason: 'MISSING_ROLE' },
        }),
      ],
    });
    expect(value).toBe(before);
  });

  it('runs the same mutation for a caller allowed every field', async () => {
    const before = value;
    const response = await api.gql('mutation { bump { value audit } }', {}, { token: admin() });
    expect(response.body).toEqual({ data: { bump: { value: before + 1, audit: 'audit' } } });
  });

  it('skips fields that @skip leaves out, as execution does', async () => {
    const response = await api.gql(
      'mutation ($admin: Boolean!) { bump { value audit @include(if: $admin) } }',
      { admin: false },
      { token: user() },
    );
    expect(response.body.errors).toBeUndefined();
  });

  it('answers a query in part: the denied field is null, its sibling has its value', async () => {
    const response = await api.gql('{ counter { value audit } }', {}, { token: user() });
    expect(response.body.data).toEqual({ counter: { value, audit: null } });
    expect(response.body.errors?.map((error) => error.path)).toEqual([['counter', 'audit']]);
  });

  it('refuses a subscription over HTTP before it is set up', async () => {
    const before = subscribed;
    const response = await api.gql('subscription { ticks }', {}, { token: user() });
    expect(response.body).toEqual({
      data: null,
      errors: [
        expect.objectContaining({
          path: ['ticks'],
          extensions: {
            code: 'FORBIDDEN',
            reason: 'INSUFFICIENT_SCOPE',
            requiredScopes: [['ticks:read']],
          },
        }),
      ],
    });
    expect(subscribed).toBe(before);
  });

  describe('subscribe()', () => {
    const run = async (token: string | undefined) =>
      subscribe({
        schema,
        document: parse('subscription { ticks }'),
        contextValue: buildContext(api.server.services, {
          requestId: 'test',
          authorization: token === undefined ? undefined : `Bearer ${token}`,
          ip: null,
          userAgent: undefined,
        }),
      });

    it.each([
      ['an anonymous caller', undefined, { code: 'UNAUTHENTICATED', reason: 'MISSING_TOKEN' }],
      [
        'a caller without the scope',
        'user',
        { code: 'FORBIDDEN', reason: 'INSUFFICIENT_SCOPE', requiredScopes: [['ticks:read']] },
      ],
    ])('refuses %s at subscribe, never starting the stream', async (_name, who, extensions) => {
      const before = subscribed;
      const result = (await run(who ? user() : undefined)) as ExecutionResult;
      expect(result.errors?.[0]?.extensions).toEqual(extensions);
      expect(result.errors?.[0]?.path).toEqual(['ticks']);
      expect(subscribed).toBe(before);
    });

    it('streams to a caller whose scopes cover the field', async () => {
      const result = await run(ticker());
      expect(Symbol.asyncIterator in result).toBe(true);
      const events: unknown[] = [];
      for await (const event of result as AsyncIterable<ExecutionResult>) events.push(event.data);
      expect(events).toEqual([{ ticks: 1 }, { ticks: 2 }]);
    });
  });
});
