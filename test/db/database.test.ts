import net from 'node:net';
import { connectDatabase, type Database } from '../../src/db/database';
import { uniqueDbName } from '../helpers/testServer';

/**
 * A TCP relay to the run's database that can go silent: connections stay open but nothing gets
 * through, as in a network partition (a stopped server, by contrast, refuses connections).
 */
async function startRelay(): Promise<{ uri: string; silent: boolean; close(): void }> {
  const target = new URL(process.env.MONGODB_URI!);
  const sockets = new Set<net.Socket>();
  const relay = {
    uri: '',
    silent: false,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => {
        if (!relay.silent) to.write(chunk);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.uri = `mongodb://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  return relay;
}

describe('connectDatabase', () => {
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let database: Database;

  beforeAll(async () => {
    relay = await startRelay();
    database = await connectDatabase(relay.uri, { dbName: uniqueDbName() });
  });

  afterAll(async () => {
    await database.connection.dropDatabase().catch(() => undefined);
    await database.close();
    relay.close();
  });

  it('fails a query within seconds when the database stops answering, instead of hanging', async () => {
    await database.models.User.create({ email: 'partition@example.com', passwordHash: 'x' });
    relay.silent = true;
    const started = Date.now();
    const outcome = await database.models.User.findOne({ email: 'partition@example.com' }).then(
      () => 'answered',
      (error: Error) => error.name,
    );
    expect(outcome).toMatch(/^Mongo(Network|ServerSelection)/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await database.ping(500)).toBe(false);
  }, 30_000);

  it('works again once the database answers again', async () => {
    relay.silent = false;
    const deadline = Date.now() + 15_000;
    while (!(await database.ping())) {
      if (Date.now() > deadline) throw new Error('no answer 15 s after the partition healed');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const user = await database.models.User.findOne({ email: 'partition@example.com' });
    expect(user?.email).toBe('partition@example.com');
  }, 30_000);
});
