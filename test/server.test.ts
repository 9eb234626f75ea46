import { LOGIN, registerUser } from './helpers/operations';
import { startTestServer, type TestServer } from './helpers/testServer';

describe('HTTP surface', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
  });

  afterAll(async () => {
    await api.close();
  });

  it('GET /health answers 200', async () => {
    const response = await fetch(`${api.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /ready answers 200 while the database answers', async () => {
    const response = await fetch(`${api.url}/ready`);
    expect(response.status).toBe(200);
  });

  it('serves the Apollo Sandbox landing page at /graphql in development', async () => {
    const response = await fetch(`${api.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/sandbox/i);
  });

  it('answers queries over GET too', async () => {
    const response = await fetch(
      `${api.url}/graphql?query=${encodeURIComponent('{ __typename }')}`,
      {
        headers: { 'apollo-require-preflight': 'true' },
      },
    );
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('publishes an empty JWKS with HS256', async () => {
    const response = await fetch(`${api.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ keys: [] });
  });

  it('answers a malformed query with a parse error, not a 500', async () => {
    const response = await api.gql('{ me { ');
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'GRAPHQL_PARSE_FAILED' });
  });

  it('answers a non-JSON body with 400 and no stack', async () => {
    const response = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).not.toMatch(/\bat .*\.js:\d+/);
  });
});

describe('with the database gone', () => {
  it('reports /ready 503, keeps /health 200 and masks database errors', async () => {
    const api = await startTestServer();
    const session = await registerUser(api);
    await api.database.connection.dropDatabase();
    await api.database.close();
    try {
      expect((await fetch(`${api.url}/ready`)).status).toBe(503);
      expect((await fetch(`${api.url}/health`)).status).toBe(200);
      const response = await api.gql(LOGIN, {
        input: { email: session.user.email, password: 'whatever1' },
      });
      expect(response.body.errors?.[0]).toMatchObject({
        message: 'Internal server error.',
        path: ['login'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      const text = JSON.stringify(response.body);
      expect(text).not.toMatch(/mongo|client|connect|stack/i);
    } finally {
      await api.server.close();
    }
  });
});

describe('in production', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({
      env: { NODE_ENV: 'production', BCRYPT_COST: '10', SMTP_URL: 'smtp://127.0.0.1:9' },
    });
  });

  afterAll(async () => {
    await api.close();
  });

  it('disables introspection', async () => {
    const response = await api.gql('{ __schema { queryType { name } } }');
    expect(response.body.errors?.[0]?.message).toMatch(/introspection/i);
    expect(response.body.data).toBeUndefined();
  });

  it('does not serve the Sandbox', async () => {
    const response = await fetch(`${api.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await response.text()).not.toMatch(/sandbox/i);
  });
});
