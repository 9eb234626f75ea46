import http from 'node:http';
import net from 'node:net';
import { databaseUri, killApiProcesses, startApiProcess } from '../helpers/apiProcess';
import { GOOD_PASSWORD, LOGIN, registerUser } from '../helpers/operations';
import { uniqueDbName } from '../helpers/testServer';

afterAll(async () => {
  await killApiProcesses();
});

/** Resolves with the error code of a request on a new connection, or 'answered'. */
function freshConnectionOutcome(url: string): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get(`${url}/health`, { agent: false }, (response) => {
      response.resume();
      resolve('answered');
    });
    request.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('shutdown on SIGTERM', () => {
  it('finishes a request in flight, refuses new connections, then exits 0', async () => {
    // A production-strength bcrypt cost makes login slow enough (about a second) to signal
    // the process in the middle of one.
    const api = await startApiProcess({
      env: {
        NODE_ENV: 'production',
        SMTP_URL: 'smtp://127.0.0.1:9',
        BCRYPT_COST: '14',
        MONGODB_URI: databaseUri(uniqueDbName()),
      },
    });
    const started = Date.now();
    const user = await registerUser(api);
    const hashTime = Date.now() - started;

    const login = api.gql(LOGIN, {
      input: { email: user.user.email, password: GOOD_PASSWORD },
    });
    await new Promise((resolve) => setTimeout(resolve, Math.min(300, hashTime / 3)));
    const exit = api.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const whileStopping = await freshConnectionOutcome(api.url);

    const response = await login;
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.login.user.id).toBe(user.user.id);
    expect(whileStopping).toBe('ECONNREFUSED');
    const code = await exit;
    expect(code).toBe(0);
    expect(api.stdout()).toMatch(/"msg":"shutting down"/);
  }, 60_000);

  it('cuts requests still open at SHUTDOWN_TIMEOUT and exits 1', async () => {
    const api = await startApiProcess({
      env: { SHUTDOWN_TIMEOUT: '1s', MONGODB_URI: databaseUri(uniqueDbName()) },
    });
    const { port } = new URL(api.url);
    // A request whose body never finishes arriving keeps its connection busy for good.
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.on('error', () => undefined);
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = Date.now();
    expect(await api.stop('SIGTERM')).toBe(1);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5000);
    expect(api.stdout()).toMatch(/shutdown deadline passed/);
    socket.destroy();
  }, 60_000);
});
