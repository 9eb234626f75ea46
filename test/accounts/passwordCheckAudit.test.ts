import { captureLogs, type LogLine } from '../helpers/logCapture';
import { firstError, GOOD_PASSWORD, registerUser } from '../helpers/operations';
import { CHANGE_PASSWORD, DELETE_ACCOUNT } from '../helpers/sessions';
import { startTestServer, type TestServer } from '../helpers/testServer';

let api: TestServer;
const logs = captureLogs();

beforeAll(async () => {
  api = await startTestServer({ logStream: logs.stream });
});

afterAll(async () => {
  await api.close();
});

function auditLinesOf(response: { headers: Headers }): LogLine[] {
  const reqId = response.headers.get('x-request-id');
  return logs.lines().filter((line) => line.audit === true && line.reqId === reqId);
}

const WRONG = 'not-the-password-123';

describe('a wrong current password', () => {
  // Each mutation that checks the current password, and how it is called with a wrong one.
  const checks = [
    {
      operation: 'changePassword',
      send: (token: string) =>
        api.gql(
          CHANGE_PASSWORD,
          { currentPassword: WRONG, newPassword: 'a brand new passphrase' },
          { token },
        ),
    },
    {
      operation: 'deleteAccount',
      send: (token: string) => api.gql(DELETE_ACCOUNT, { password: WRONG }, { token }),
    },
  ];

  it.each(checks)(
    'in $operation writes login_failed with the user id and the operation',
    async ({ operation, send }) => {
      const session = await registerUser(api);
      const response = await send(session.accessToken);
      expect(firstError(response).extensions).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
      expect(auditLinesOf(response)).toEqual([
        expect.objectContaining({
          event: 'login_failed',
          userId: session.user.id,
          operation,
          ip: '127.0.0.1',
        }),
      ]);
      expect(logs.text()).not.toContain(WRONG);
    },
  );

  it('and a right one write no login_failed', async () => {
    const session = await registerUser(api);
    const response = await api.gql(
      DELETE_ACCOUNT,
      { password: GOOD_PASSWORD },
      { token: session.accessToken },
    );
    expect(response.body.errors).toBeUndefined();
    expect(auditLinesOf(response).map((line) => line.event)).not.toContain('login_failed');
  });
});
