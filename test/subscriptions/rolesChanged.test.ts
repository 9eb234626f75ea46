import { SecurityEventsDocument } from '../../client/generated/graphql';
import { registerUser } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';
import { TestSocket } from '../helpers/webSocket';

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer();
});

afterAll(async () => {
  await api.close();
});

describe('securityEvents in process', () => {
  it('reports a role change made outside any request (the CLI) to the account’s subscribers', async () => {
    const session = await registerUser(api);
    const socket = await TestSocket.withToken(api.url, session.accessToken);
    try {
      socket.subscribe('events', SecurityEventsDocument);
      socket.send({ type: 'ping' });
      await socket.waitFor((message) => message.type === 'pong');

      await api.server.services.users.setRolesByEmail(session.user.email, ['USER', 'ADMIN']);

      const payload = await socket.nextOf('events');
      expect(payload?.data?.securityEvents).toMatchObject({
        type: 'ROLES_CHANGED',
        sessionId: null,
        current: false,
      });
    } finally {
      await socket.close();
    }
  });

  it('closes open sockets with 1001 when the server shuts down', async () => {
    const other = await startTestServer();
    const socket = await TestSocket.connect(other.url);
    expect(socket.acknowledged).toBe(true);
    await other.close();
    expect(await socket.closedWithin(3000)).toEqual({ code: 1001, reason: 'Server shutting down' });
  });
});
