import { print } from 'graphql';
import { AUDIT_EVENTS } from '../../src/logging/audit';
import {
  databaseUri,
  killApiProcesses,
  startApiProcess,
  type ApiProcess,
} from '../helpers/apiProcess';
import {
  GOOD_PASSWORD,
  LOGIN,
  LOGOUT,
  ME,
  REFRESH,
  registerUser,
  bodyPayload,
} from '../helpers/operations';
import { TEST_JWT_SECRET, uniqueDbName } from '../helpers/testServer';

type LogLine = Record<string, unknown>;

describe('the log of a full register / login / refresh / logout run', () => {
  let api: ApiProcess;
  let lines: LogLine[];
  let stdout: string;
  const secrets: string[] = [TEST_JWT_SECRET, GOOD_PASSWORD, 'wrong-password-456'];

  beforeAll(async () => {
    // trace: the most the server can ever write.
    api = await startApiProcess({
      // Strict reuse detection, so that the replay below is reported.
      env: {
        LOG_LEVEL: 'trace',
        MONGODB_URI: databaseUri(uniqueDbName()),
        REFRESH_REUSE_GRACE: '0',
      },
    });
    const user = await registerUser(api);
    secrets.push(user.accessToken, user.refreshToken);
    await api.gql(LOGIN, { input: { email: user.user.email, password: 'wrong-password-456' } });
    const login = await api.gql(LOGIN, {
      input: { email: user.user.email, password: GOOD_PASSWORD },
    });
    const session = bodyPayload(login.body.data!.login);
    secrets.push(session.accessToken, session.refreshToken);
    await api.gql(ME, undefined, { token: session.accessToken });
    await api.gql(ME, undefined, { token: `${session.accessToken}x` });
    const refreshed = await api.gql(REFRESH, {
      refreshToken: session.refreshToken,
    });
    secrets.push(
      refreshed.body.data!.refreshToken.accessToken,
      refreshed.body.data!.refreshToken.refreshToken!,
    );
    await api.gql(REFRESH, { refreshToken: session.refreshToken }); // reuse
    await api.gql(LOGOUT, { refreshToken: user.refreshToken });
    // Variables in a GET query string, and a malformed body.
    await fetch(
      `${api.url}/graphql?query=${encodeURIComponent(print(LOGIN))}&variables=${encodeURIComponent(
        JSON.stringify({ input: { email: user.user.email, password: 'wrong-password-456' } }),
      )}`,
      { headers: { 'apollo-require-preflight': 'true' } },
    );
    await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${session.accessToken}`,
      },
      body: `{"query": "${GOOD_PASSWORD}`,
    });
    await fetch(`${api.url}/health`, { headers: { 'x-request-id': 'probe-1' } });
    expect(await api.stop('SIGTERM')).toBe(0);
    stdout = api.stdout();
    lines = stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LogLine);
  }, 60_000);

  afterAll(async () => {
    await killApiProcesses();
  });

  it('is JSON lines with a level, a time and a message', () => {
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(typeof line.level).toBe('number');
      expect(typeof line.time).toBe('number');
      expect(typeof line.msg).toBe('string');
    }
  });

  it('contains no password, token or secret', () => {
    for (const secret of secrets) expect(stdout).not.toContain(secret);
    expect(stdout).not.toMatch(/\$2[aby]\$\d\d\$/); // a bcrypt hash
    expect(stdout).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/); // any JWT
  });

  it('has one line per request, with its request id', () => {
    const requests = lines.filter((line) => line.msg === 'request completed');
    expect(requests.length).toBeGreaterThanOrEqual(10);
    for (const line of requests) expect(line.reqId).toEqual(expect.any(String));
    expect(requests.find((line) => line.reqId === 'probe-1')).toMatchObject({
      path: '/health',
      statusCode: 200,
    });
  });

  it('has the audit events of the run, by their stable names', () => {
    const events = lines.filter((line) => line.audit === true).map((line) => line.event);
    expect(events).toEqual(
      expect.arrayContaining([
        'login_failed',
        'login_succeeded',
        'refresh_token_reuse_detected',
        'session_revoked',
      ]),
    );
    for (const event of events) expect(AUDIT_EVENTS).toContain(event);
  });

  it('says when it starts and stops', () => {
    const messages = lines.map((line) => line.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GraphQL API ready at http/),
        'shutting down',
        'stopped',
      ]),
    );
  });
});
