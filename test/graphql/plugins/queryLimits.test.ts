import { getIntrospectionQuery } from 'graphql';
import { print } from 'graphql';
import { AuthPayloadFieldsFragmentDoc } from '../../../client/generated/graphql';
import { firstError, GOOD_PASSWORD, uniqueEmail } from '../../helpers/operations';
import { startTestServer, type TestServer } from '../../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer();
});

afterAll(async () => {
  await api.close();
});

function registerField(alias: string): string {
  return `${alias}: register(input: { email: "${uniqueEmail(alias)}", password: "${GOOD_PASSWORD}" }) { accessToken }`;
}

async function usersCreated(): Promise<number> {
  return api.database.models.User.countDocuments();
}

function expectRefusedBeforeExecution(
  response: Awaited<ReturnType<TestServer['gql']>>,
  code: string,
  message: RegExp,
): void {
  expect(response.status).toBe(400);
  expect(response.body.data).toBeUndefined();
  expect(response.body.errors).toHaveLength(1);
  expect(firstError(response).extensions).toEqual({ code });
  expect(response.body.errors?.[0]?.message).toMatch(message);
}

describe('GraphQL document limits', () => {
  it('refuses a document nested deeper than 10 levels', async () => {
    let selection = 'name';
    for (let i = 0; i < 10; i += 1) selection = `ofType { ${selection} }`;
    const response = await api.gql(`{ __type(name: "User") { fields { type { ${selection} } } } }`);
    expectRefusedBeforeExecution(
      response,
      'GRAPHQL_VALIDATION_FAILED',
      /^Query depth limit of 10 exceeded, found 14\.$/,
    );
  });

  it('measures depth through fragments too', async () => {
    let selection = 'name';
    for (let i = 0; i < 9; i += 1) selection = `ofType { ${selection} }`;
    const response = await api.gql(
      `{ __type(name: "User") { ...Deep } } fragment Deep on __Type { fields { type { ${selection} } } }`,
    );
    expectRefusedBeforeExecution(response, 'GRAPHQL_VALIDATION_FAILED', /depth limit of 10/);
  });

  it('refuses more than 10 aliases without running any of them', async () => {
    const before = await usersCreated();
    const fields = Array.from({ length: 11 }, (_unused, i) => registerField(`r${i}`));
    const response = await api.gql(`mutation { ${fields.join('\n')} }`);
    expectRefusedBeforeExecution(
      response,
      'GRAPHQL_VALIDATION_FAILED',
      /^Aliases limit of 10 exceeded, found 11\.$/,
    );
    expect(await usersCreated()).toBe(before);
  });

  it('refuses more than 10 directives', async () => {
    const fields = Array.from({ length: 11 }, () => '__typename @include(if: true)');
    const response = await api.gql(`{ ${fields.join(' ')} }`);
    expectRefusedBeforeExecution(
      response,
      'GRAPHQL_VALIDATION_FAILED',
      /^Directives limit of 10 exceeded, found 11\.$/,
    );
  });

  it('refuses a document of more than 1000 tokens while parsing it', async () => {
    const before = await usersCreated();
    const padding = Array.from({ length: 1000 }, () => '__typename').join(' ');
    const response = await api.gql(`mutation { ${registerField('long')} ${padding} }`);
    expectRefusedBeforeExecution(
      response,
      'GRAPHQL_PARSE_FAILED',
      /contains more th.. 1000 tokens/,
    );
    expect(await usersCreated()).toBe(before);
  });

  it('refuses a document over the cost limit', async () => {
    const cheap = await startTestServer({ env: { GRAPHQL_MAX_COST: '20' } });
    try {
      const response = await cheap.gql(
        `mutation { ${registerField('costly').replace('accessToken', '...AuthPayloadFields')} } ${print(AuthPayloadFieldsFragmentDoc)}`,
      );
      expectRefusedBeforeExecution(
        response,
        'GRAPHQL_VALIDATION_FAILED',
        /^Query Cost limit of 20 exceeded, found [\d.]+\.$/,
      );
      expect(await cheap.database.models.User.countDocuments()).toBe(0);
    } finally {
      await cheap.close();
    }
  });

  it('lets the standard introspection query through, as Apollo Sandbox sends it', async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    const response = await api.gql<{ __schema: { types: unknown[] } }>(query);
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.__schema.types.length).toBeGreaterThan(10);
  });

  it('refuses a request body over 100 KB before parsing it', async () => {
    const response = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(101 * 1024) } }),
    });
    expect(response.status).toBe(413);
    expect(await response.text()).not.toMatch(/\bat .*\.js:\d+/);
  });
});
