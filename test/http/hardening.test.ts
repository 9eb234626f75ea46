import net from 'node:net';
import { captureLogs } from '../helpers/logCapture';
import { print } from 'graphql';
import { sharedHashingPool } from '../../src/passwords/hashingPool';
import {
  firstError,
  GOOD_PASSWORD,
  LOGIN,
  ME,
  REFRESH,
  registerUser,
  uniqueEmail,
} from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

// Production needs a mail server; a closed loopback port will do for these tests.
const PRODUCTION = { NODE_ENV: 'production', BCRYPT_COST: '10', SMTP_URL: 'smtp://127.0.0.1:9' };

function post(api: TestServer, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${api.url}/graphql`, { method: 'POST', headers, body });
}

/** Requests with typos that graphql-js answers with a "Did you mean …?" hint. */
function misspelledRequests(api: TestServer) {
  return Promise.all([
    api.gql('{ mee { id } }'),
    api.gql('{ me { emial } }'),
    api.gql('{ users(limt: 5) { id } }'),
    api.gql(
      'mutation Roles($roles: [Role!]!) { setUserRoles(userId: "x", roles: $roles) { id } }',
      { roles: ['ADMN'] },
    ),
    api.gql(print(LOGIN), { input: { emial: 'a@example.com', password: GOOD_PASSWORD } }),
  ]);
}

function messages(response: Awaited<ReturnType<TestServer['gql']>>): string {
  return (response.body.errors ?? []).map((error) => error.message).join('\n');
}

function noStack(text: string): void {
  expect(text).not.toMatch(/stacktrace|\bat .*\.[jt]s:\d+/);
}

describe('request shape', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
  });

  afterAll(async () => {
    await api.close();
  });

  it('refuses a batched array of operations', async () => {
    const operation = { query: '{ __typename }' };
    const response = await post(api, JSON.stringify([operation, operation]), {
      'content-type': 'application/json',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/batch/i);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
  ])('refuses a simple cross-site POST sent as %s, without running it', async (_kind, type) => {
    const before = await api.database.models.User.countDocuments();
    const mutation = `mutation { register(input: { email: "${uniqueEmail('csrf')}", password: "${GOOD_PASSWORD}" }) { accessToken } }`;
    const response = await post(api, JSON.stringify({ query: mutation }), { 'content-type': type });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await api.database.models.User.countDocuments()).toBe(before);
  });

  it('refuses a GET query without a preflight-forcing header (CSRF prevention)', async () => {
    const response = await fetch(
      `${api.url}/graphql?query=${encodeURIComponent('{ __typename }')}`,
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF/);
  });

  it('answers a variable of the wrong type with HTTP 400 before running anything', async () => {
    const response = await api.gql(print(LOGIN), { input: { email: 42, password: GOOD_PASSWORD } });
    expect(response.status).toBe(400);
    expect(response.body.data).toBeUndefined();
    expect(firstError(response).extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });

  it('never passes a query operator such as { "$ne": null } to the database', async () => {
    const session = await registerUser(api);
    const findUser = jest.spyOn(api.database.models.UserEmail, 'findById');
    const findToken = jest.spyOn(api.database.models.RefreshSecret, 'findById');
    const compare = jest.spyOn(sharedHashingPool(), 'compare');
    try {
      const operator = { $ne: null };
      const responses = [
        await api.gql(print(LOGIN), { input: { email: operator, password: operator } }),
        await api.gql(print(LOGIN), { input: { email: session.user.email, password: operator } }),
        await api.gql(print(REFRESH), { refreshToken: { $gt: '' } }),
      ];
      for (const response of responses) {
        expect(response.status).toBe(400);
        expect(response.body.data).toBeUndefined();
        expect(firstError(response).extensions?.code).toBe('BAD_USER_INPUT');
      }
      expect(findUser).not.toHaveBeenCalled();
      expect(findToken).not.toHaveBeenCalled();
      expect(compare).not.toHaveBeenCalled();

      // As a string it is just a wrong email.
      const asText = await api.gql(LOGIN, {
        input: { email: JSON.stringify(operator), password: GOOD_PASSWORD },
      });
      expect(firstError(asText).extensions?.reason).toBe('INVALID_CREDENTIALS');
    } finally {
      findUser.mockRestore();
      findToken.mockRestore();
      compare.mockRestore();
    }
  });

  it('suggests names in development', async () => {
    for (const response of await misspelledRequests(api)) {
      expect(response.status).toBe(400);
      expect(messages(response)).toMatch(/Did you mean/);
    }
  });
});

describe('CORS', () => {
  async function preflight(api: TestServer, origin: string): Promise<Response> {
    return fetch(`${api.url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      },
    });
  }

  async function simplePost(api: TestServer, origin: string): Promise<Response> {
    return post(api, JSON.stringify({ query: '{ __typename }' }), {
      'content-type': 'application/json',
      origin,
    });
  }

  it('allows localhost origins on any port in development, and no others', async () => {
    const api = await startTestServer();
    try {
      const allowed = await preflight(api, 'http://localhost:5173');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/i);

      const local = await simplePost(api, 'http://127.0.0.1:3000');
      expect(local.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3000');
      // Scripts may read the throttle's and the bearer challenge's headers.
      expect(local.headers.get('access-control-expose-headers')).toMatch(
        /Retry-After.*WWW-Authenticate/i,
      );
      expect(local.headers.get('access-control-allow-credentials')).toBeNull();

      for (const origin of ['https://evil.example', 'http://localhost.evil.example:80']) {
        const refused = await simplePost(api, origin);
        expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      }
    } finally {
      await api.close();
    }
  });

  it('allows no origin at all in production by default', async () => {
    const api = await startTestServer({ env: PRODUCTION });
    try {
      const response = await preflight(api, 'http://localhost:5173');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await api.close();
    }
  });

  it('allows exactly the origins listed in CORS_ORIGINS', async () => {
    const api = await startTestServer({
      env: { ...PRODUCTION, CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' },
    });
    try {
      const allowed = await preflight(api, 'https://admin.example.com');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
      const other = await simplePost(api, 'https://app.example.com.evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const plain = await simplePost(api, 'http://app.example.com');
      expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await api.close();
    }
  });
});

describe('in production', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({ env: PRODUCTION });
  });

  afterAll(async () => {
    await api.close();
  });

  it('refuses every introspection field', async () => {
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "User") { name } }']) {
      const response = await api.gql(query);
      expect(response.status).toBe(400);
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors?.[0]?.message).toMatch(/introspection/i);
    }
  });

  it('hides "Did you mean" suggestions for fields, arguments and enum values', async () => {
    const responses = await misspelledRequests(api);
    for (const response of responses) {
      expect(response.status).toBe(400);
      expect(messages(response)).not.toMatch(/did you mean/i);
    }
    for (const response of responses.slice(0, 4)) {
      expect(messages(response)).not.toMatch(/"(me|email|limit|ADMIN)"/);
    }
    expect(responses[0]?.body.errors?.[0]?.message).toBe(
      'Cannot query field "mee" on type "Query".',
    );
  });

  it('never answers with a stack trace', async () => {
    for (const query of ['{ me { ', '{ mee }', '{ me { id } }']) {
      noStack(JSON.stringify((await api.gql(query)).body));
    }
    noStack(await (await post(api, '{"query": ', { 'content-type': 'application/json' })).text());
  });

  it('masks database errors and logs them with the request id', async () => {
    const broken = await startTestServer({ env: PRODUCTION });
    const session = await registerUser(broken);
    const logged = jest.spyOn(broken.server.app.log, 'error');
    await broken.database.connection.dropDatabase();
    await broken.database.close();
    try {
      const responses = [
        await broken.gql(LOGIN, { input: { email: session.user.email, password: GOOD_PASSWORD } }),
        await broken.gql(ME, {}, { token: session.accessToken }),
      ];
      for (const response of responses) {
        expect(response.body.errors).toHaveLength(1);
        const error = response.body.errors?.[0];
        expect(Object.keys(error ?? {}).sort()).toEqual([
          'extensions',
          'locations',
          'message',
          'path',
        ]);
        expect(error?.message).toBe('Internal server error.');
        expect(error?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
        expect(JSON.stringify(response.body)).not.toMatch(/mongo|client|connect|topology|pool/i);
      }
      const entries = logged.mock.calls.map(([entry]) => entry as Record<string, unknown>);
      expect(entries).toHaveLength(2);
      for (const entry of entries) {
        expect(entry.reqId).toEqual(expect.any(String));
        expect(entry.err).toBeInstanceOf(Error);
      }
      expect(entries[0]?.reqId).not.toBe(entries[1]?.reqId);
    } finally {
      logged.mockRestore();
      await broken.server.close();
    }
  });
});

describe('slow clients', () => {
  it('answers 408 and closes a connection whose request does not arrive in time', async () => {
    const slow = await startTestServer({ requestTimeoutMs: 1000 });
    try {
      const { port, hostname } = new URL(slow.url);
      const started = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), hostname, () => {
          // The headers promise a body that never comes.
          socket.write(
            'POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{',
          );
        });
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await slow.close();
    }
  });
});

describe('X-Forwarded-For without TRUST_PROXY', () => {
  it('is ignored, and a private peer sending it gets one warning in the log', async () => {
    const logs = captureLogs();
    const behindProxy = await startTestServer({ logStream: logs.stream });
    try {
      const headers = { 'x-forwarded-for': '203.0.113.50' };
      await behindProxy.gql('{ __typename }', {}, { headers });
      await behindProxy.gql('{ __typename }', {}, { headers });
      const warnings = logs
        .lines()
        .filter((line) => String(line.msg).includes('X-Forwarded-For from a private address'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 40, peer: '127.0.0.1' });
    } finally {
      await behindProxy.close();
    }
  });

  it('says nothing once TRUST_PROXY is set', async () => {
    const logs = captureLogs();
    const configured = await startTestServer({
      logStream: logs.stream,
      env: { TRUST_PROXY: 'loopback' },
    });
    try {
      await configured.gql(
        '{ __typename }',
        {},
        { headers: { 'x-forwarded-for': '203.0.113.50' } },
      );
      expect(logs.text()).not.toContain('X-Forwarded-For from a private address');
    } finally {
      await configured.close();
    }
  });
});
