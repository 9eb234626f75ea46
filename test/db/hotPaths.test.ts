import type { CommandStartedEvent } from 'mongodb';
import {
  GOOD_PASSWORD,
  LOGIN,
  LOGOUT,
  ME,
  REFRESH,
  REGISTER,
  registerUser,
  uniqueEmail,
} from '../helpers/operations';
import { LOGOUT_ALL, loginAgain, REVOKE_SESSION, SESSIONS, sessionIdOf } from '../helpers/sessions';
import { startTestServer, type TestServer } from '../helpers/testServer';

// What docs/data-model.md promises for every operation on the request path: a fixed number of
// single-document commands, each addressing its document by `_id` alone. On a cluster sharded by
// `_id` (the shard key of every collection) each of them goes to exactly one shard.

let api: TestServer;
let seen: CommandStartedEvent[] = [];

const DATA_COMMANDS = new Set([
  'find',
  'insert',
  'update',
  'delete',
  'findAndModify',
  'aggregate',
  'count',
  'distinct',
  'getMore',
]);

beforeAll(async () => {
  // A throttle on, so its checks are part of what is captured.
  api = await startTestServer({ env: { AUTH_IP_LIMIT: '1000' }, monitorCommands: true });
  api.database.connection.getClient().on('commandStarted', (event) => {
    if (DATA_COMMANDS.has(event.commandName)) seen.push(event);
  });
});

afterAll(async () => {
  await api.close();
});

/** One command as the test reports it: its name, collection and filter. */
interface Addressed {
  readonly command: string;
  readonly collection: string;
  readonly filter: Record<string, unknown>;
}

function isIdValue(value: unknown): boolean {
  if (typeof value === 'string') return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { _bsontype?: unknown })._bsontype === 'ObjectId'
  );
}

/** Checks that a command touches one document by `_id`, and says which. */
function addressed(event: CommandStartedEvent): Addressed {
  const { command, commandName } = event;
  const collection = String(command[commandName]);
  const one = (statements: unknown[] | undefined): Record<string, unknown> => {
    expect(statements).toHaveLength(1);
    return statements![0] as Record<string, unknown>;
  };
  let filter: Record<string, unknown>;
  switch (commandName) {
    case 'find':
      expect(command.limit).toBe(1);
      filter = command.filter as Record<string, unknown>;
      break;
    case 'insert': {
      const document = one(command.documents as unknown[]);
      filter = { _id: document._id };
      break;
    }
    case 'update': {
      const statement = one(command.updates as unknown[]);
      expect(statement.multi ?? false).toBe(false);
      filter = statement.q as Record<string, unknown>;
      break;
    }
    case 'delete': {
      const statement = one(command.deletes as unknown[]);
      expect(statement.limit).toBe(1);
      filter = statement.q as Record<string, unknown>;
      break;
    }
    default:
      throw new Error(`${commandName} on ${collection} is not a single-document command by _id`);
  }
  expect({ command: commandName, collection, keys: Object.keys(filter) }).toEqual({
    command: commandName,
    collection,
    keys: ['_id'],
  });
  expect(isIdValue(filter._id)).toBe(true);
  return { command: commandName, collection, filter };
}

async function capture(operation: () => Promise<unknown>): Promise<Addressed[]> {
  // Mail queued by an earlier operation (register's verification link) is not this one's work.
  await api.server.services.mail.idle();
  seen = [];
  await operation();
  // Writes not awaited by the request would show up late; there must be none but the mail's.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await api.server.services.mail.idle();
  return seen.map(addressed);
}

function summary(commands: Addressed[]): string[] {
  return commands.map((c) => `${c.command} ${c.collection}`).sort();
}

describe('every hot-path operation', () => {
  it('register: single-document commands by _id only', async () => {
    const commands = await capture(() =>
      api.gql(REGISTER, { input: { email: uniqueEmail(), password: GOOD_PASSWORD } }),
    );
    expect(summary(commands)).toEqual(
      [
        // the per-IP and per-IP registration throttles, and the per-address check
        ...Array.from({ length: 2 }, () => [
          'find ratelimitbuckets',
          'insert ratelimithits',
          'update ratelimitbuckets',
        ]).flat(),
        'find ratelimitbuckets',
        'find useremails',
        'insert useremails',
        'insert users',
        'insert sessions',
        // The verification mail, composed after the answer: its token and the newest-token marker.
        'insert recoverytokens',
        'update recoverytokens',
        'insert refreshsecrets',
        'update users',
      ].sort(),
    );
  });

  it('login: single-document commands by _id only', async () => {
    const session = await registerUser(api);
    const commands = await capture(() =>
      api.gql(LOGIN, { input: { email: session.user.email, password: GOOD_PASSWORD } }),
    );
    expect(summary(commands)).toEqual(
      [
        // the per-IP check (a success is not counted), the per-account throttle, then its reset
        'find ratelimitbuckets',
        'find ratelimitbuckets',
        'insert ratelimithits',
        'update ratelimitbuckets',
        'update ratelimitbuckets',
        'find useremails',
        'find users',
        'insert sessions',
        'insert refreshsecrets',
        'update users',
        // the re-check once the session exists (docs/sessions.md, "Sessions")
        'find users',
      ].sort(),
    );
  });

  it('me and every guarded read: one read of the user by _id, nothing else', async () => {
    const session = await registerUser(api);
    const commands = await capture(() => api.gql(ME, {}, { token: session.accessToken }));
    expect(summary(commands)).toEqual(['find users']);
    expect(String(commands[0]?.filter._id)).toBe(session.user.id);
  });

  it('refreshToken: single-document commands by _id only', async () => {
    const session = await registerUser(api);
    const commands = await capture(() => api.gql(REFRESH, { refreshToken: session.refreshToken }));
    expect(summary(commands)).toEqual(
      [
        // the per-IP check only: a successful rotation is not counted
        'find ratelimitbuckets',
        'find sessions',
        'find refreshsecrets',
        'insert refreshsecrets',
        'update sessions',
        'find users',
      ].sort(),
    );
  });

  it('refreshToken that fails: the per-IP check, then the count, by _id only', async () => {
    const session = await registerUser(api);
    await api.gql(LOGOUT, { refreshToken: session.refreshToken });
    const commands = await capture(() => api.gql(REFRESH, { refreshToken: session.refreshToken }));
    const throttling = summary(commands).filter((command) => command.includes('ratelimit'));
    expect(throttling).toEqual(
      [
        'find ratelimitbuckets',
        'find ratelimitbuckets',
        'insert ratelimithits',
        'update ratelimitbuckets',
      ].sort(),
    );
  });

  it('refreshToken, after many rotations: the same, plus the deletion of the oldest secret', async () => {
    let token = (await registerUser(api)).refreshToken;
    for (let i = 0; i < 6; i += 1) {
      token = (await api.gql(REFRESH, { refreshToken: token })).body.data!.refreshToken
        .refreshToken!;
    }
    const commands = await capture(() => api.gql(REFRESH, { refreshToken: token }));
    expect(summary(commands)).toContain('delete refreshsecrets');
    expect(commands).toHaveLength(7);
  });

  it('logout, sessions, revokeSession, logoutAll: single-document commands by _id only', async () => {
    const first = await registerUser(api);
    const second = await loginAgain(api, first.user.email);
    const third = await loginAgain(api, first.user.email);

    const listing = await capture(() => api.gql(SESSIONS, {}, { token: first.accessToken }));
    // the caller, then each listed session
    expect(summary(listing)).toEqual(
      ['find users', 'find sessions', 'find sessions', 'find sessions'].sort(),
    );

    const revoking = await capture(() =>
      api.gql(REVOKE_SESSION, { id: sessionIdOf(third.accessToken) }, { token: first.accessToken }),
    );
    expect(revoking.length).toBeLessThanOrEqual(10);

    const loggingOut = await capture(() => api.gql(LOGOUT, { refreshToken: second.refreshToken }));
    expect(loggingOut.length).toBeLessThanOrEqual(8);

    const all = await capture(() => api.gql(LOGOUT_ALL, {}, { token: first.accessToken }));
    expect(all.length).toBeLessThanOrEqual(12);
  });
});
