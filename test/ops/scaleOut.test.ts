import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { bodyPayload, firstError, LOGIN, ME, REFRESH, registerUser } from '../helpers/operations';
import { LOGOUT_ALL, refresh } from '../helpers/sessions';
import {
  startTestServer,
  TEST_JWT_SECRET,
  uniqueDbName,
  type GraphQLResponse,
  type Gql,
  postGraphQL,
  type TestServer,
} from '../helpers/testServer';

const ROOT = path.resolve(__dirname, '../..');

function expectRefreshRefused(response: GraphQLResponse): void {
  expect(response.status).toBe(200);
  expect(firstError(response).extensions).toEqual({
    code: 'UNAUTHENTICATED',
    reason: 'INVALID_REFRESH_TOKEN',
  });
}

describe('two API instances sharing one database', () => {
  const dbName = uniqueDbName();
  let east: TestServer;
  let west: TestServer;

  beforeAll(async () => {
    // Strict reuse detection; the grace window across processes is in test/cookies/.
    east = await startTestServer({ dbName, env: { REFRESH_REUSE_GRACE: '0' } });
    west = await startTestServer({ dbName, env: { REFRESH_REUSE_GRACE: '0' } });
  });

  afterAll(async () => {
    await west.close();
    await east.database.connection.dropDatabase().catch(() => undefined);
    await east.close();
  });

  it('run on different ports', () => {
    expect(east.url).not.toBe(west.url);
  });

  it('catch a token rotated on one and replayed on the other, and revoke the whole session', async () => {
    const session = await registerUser(east);
    const rotated = await refresh(east, session.refreshToken);
    expect(rotated.body.errors).toBeUndefined();

    expectRefreshRefused(await refresh(west, session.refreshToken));
    expectRefreshRefused(await refresh(east, rotated.body.data!.refreshToken.refreshToken));
    const me = await west.gql(ME, {}, { token: rotated.body.data!.refreshToken.accessToken });
    expect(firstError(me).extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'INVALID_TOKEN' });
  });

  it('let at most one of 10 concurrent refreshes spread over both yield a working successor', async () => {
    const session = await registerUser(west);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        refresh(i % 2 === 0 ? east : west, session.refreshToken),
      ),
    );
    const successors = responses
      .map((response) => response.body.data?.refreshToken.refreshToken)
      .filter((token): token is string => Boolean(token));
    expect(successors.length).toBeLessThanOrEqual(1);
    let working = 0;
    for (const token of successors) {
      if ((await refresh(west, token)).body.data) working += 1;
    }
    expect(working).toBeLessThanOrEqual(1);
  });

  it('honour a logoutAll made on the other instance', async () => {
    const session = await registerUser(east);
    const response = await west.gql(LOGOUT_ALL, {}, { token: session.accessToken });
    expect(response.body).toEqual({ data: { logoutAll: 1 } });
    expect(firstError(await east.gql(ME, {}, { token: session.accessToken })).extensions).toEqual({
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_TOKEN',
    });
    expectRefreshRefused(await refresh(east, session.refreshToken));
  });
});

describe('an API instance in a separate process sharing the database', () => {
  const dbName = uniqueDbName();
  let local: TestServer;
  let child: ChildProcess;
  let childUrl: string;
  let childOutput = '';

  /** Starts `src/bin/server.ts` as its own process on a free port, as `npm run dev` would. */
  function startChild(): Promise<string> {
    const uri = `${process.env.MONGODB_URI!.replace(/\/?$/, '/')}${dbName}`;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/server.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        MONGODB_URI: uri,
        JWT_SECRET: TEST_JWT_SECRET,
        BCRYPT_COST: '4',
        PORT: '0',
        HOST: '127.0.0.1',
        REFRESH_REUSE_GRACE: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((resolve, reject) => {
      const onData = (chunk: string) => {
        childOutput += chunk;
        const match = /ready at (http:\/\/[^\s"/]+)\/graphql/.exec(childOutput);
        if (match) resolve(match[1]!);
      };
      child.stdout!.setEncoding('utf8').on('data', onData);
      child.stderr!.setEncoding('utf8').on('data', onData);
      child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${childOutput}`)));
    });
  }

  const childGql: Gql = (operation, variables) => postGraphQL(childUrl, operation, variables);

  beforeAll(async () => {
    local = await startTestServer({ dbName, env: { REFRESH_REUSE_GRACE: '0' } });
    childUrl = await startChild();
  }, 60_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await local.database.connection.dropDatabase().catch(() => undefined);
    await local.close();
  });

  it('catches a token rotated in this process and replayed in the other, and logs it without the token', async () => {
    const session = await registerUser(local);
    const rotated = (await refresh(local, session.refreshToken)).body.data!.refreshToken;

    expectRefreshRefused(await childGql(REFRESH, { refreshToken: session.refreshToken }));
    expectRefreshRefused(await refresh(local, rotated.refreshToken));

    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(childOutput).toContain('"event":"refresh_token_reuse_detected"');
    expect(childOutput).toContain(session.user.id);
    expect(childOutput).not.toContain(session.refreshToken);
    expect(childOutput).not.toContain(rotated.refreshToken);
  });

  it('catches a token rotated in the other process and replayed in this one', async () => {
    const login = await childGql(LOGIN, {
      input: {
        email: (await registerUser(local)).user.email,
        password: 'correct horse battery staple',
      },
    });
    const session = bodyPayload(login.body.data!.login);
    const rotated = await childGql(REFRESH, {
      refreshToken: session.refreshToken,
    });
    expect(rotated.body.errors).toBeUndefined();

    expectRefreshRefused(await refresh(local, session.refreshToken));
    expectRefreshRefused(
      await childGql(REFRESH, { refreshToken: rotated.body.data!.refreshToken.refreshToken! }),
    );
  });
});
