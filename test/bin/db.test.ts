import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { freePort } from '../../src/embedded/waitForPort';

const ROOT = path.resolve(__dirname, '../..');
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gja-db-test-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Starts `npm run db` and resolves with the URI it prints once ready. */
function startDb(port: number): Promise<{ child: ChildProcess; uri: string }> {
  const child = spawn('npm', ['run', '--silent', 'db'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DB_PORT: String(port),
      DB_DATA_DIR: dataDir,
      EMBEDDED_DB: process.env.TEST_DB_ENGINE ?? 'auto',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a signal reaches npm and everything below it, as Ctrl+C does.
    detached: true,
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /^MONGODB_URI=(\S+)$/m.exec(out);
      if (match) resolve({ child, uri: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`npm run db exited with ${code}: ${out}`)));
  });
}

async function stopDb(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGINT');
  return exited;
}

describe('npm run db', () => {
  it('prints MONGODB_URI on the chosen port and keeps data across restarts', async () => {
    const port = await freePort();
    const first = await startDb(port);
    expect(first.uri).toBe(`mongodb://127.0.0.1:${port}/`);
    const connection = await mongoose
      .createConnection(first.uri, { dbName: 'persist' })
      .asPromise();
    await connection.db!.collection('notes').insertOne({ text: 'kept' });
    await connection.close();
    await stopDb(first.child);

    const second = await startDb(port);
    const again = await mongoose.createConnection(second.uri, { dbName: 'persist' }).asPromise();
    expect(await again.db!.collection('notes').findOne({}, { projection: { _id: 0 } })).toEqual({
      text: 'kept',
    });
    await again.close();
    await stopDb(second.child);
  }, 60_000);
});
