import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EmbeddedDb } from '../../src/embedded/embeddedDb';
import { startEmbeddedDb } from '../../src/embedded/startEmbeddedDb';

// A first FerretDB build on this machine takes about two minutes; after that a start takes one.
jest.setTimeout(5 * 60_000);

// mongodb-memory-server reads these when it downloads: a fresh cache with nothing in it, and a
// mirror where nothing listens, tried once.
const UNREACHABLE_DOWNLOAD = {
  MONGOMS_DOWNLOAD_MIRROR: 'http://127.0.0.1:1',
  MONGOMS_USE_HTTP: 'true',
  MONGOMS_MAX_RETRIES: '1',
};

let tempDir: string;
let marker: string;
const savedEnv = new Map<string, string | undefined>();
const started: EmbeddedDb[] = [];

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'gja-embedded-test-'));
  marker = path.join(tempDir, 'mongod-unavailable');
  const env: Record<string, string> = {
    ...UNREACHABLE_DOWNLOAD,
    MONGOMS_DOWNLOAD_DIR: path.join(tempDir, 'mongodb-binaries'),
  };
  for (const [name, value] of Object.entries(env)) {
    savedEnv.set(name, process.env[name]);
    process.env[name] = value;
  }
  savedEnv.set('MONGOMS_SYSTEM_BINARY', process.env.MONGOMS_SYSTEM_BINARY);
  delete process.env.MONGOMS_SYSTEM_BINARY;
});

afterAll(async () => {
  await Promise.all(started.map((db) => db.stop()));
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(tempDir, { recursive: true, force: true });
});

/**
 * Starts the database as `npm run dev` does (default log to stderr) and returns every line that
 * reached the terminal meanwhile, from our log or from any library's console.
 */
async function startCapturingOutput(): Promise<{ db: EmbeddedDb; lines: string[] }> {
  let output = '';
  const capture = (chunk: unknown): boolean => {
    output += String(chunk);
    return true;
  };
  const spies = [
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        output += `${args.map(String).join(' ')}\n`;
      }),
    ),
  ];
  try {
    const db = await startEmbeddedDb({ engine: 'auto', mongodUnavailableMarker: marker });
    started.push(db);
    return { db, lines: output.split('\n').filter((line) => line.trim() !== '') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('startEmbeddedDb where mongod cannot be downloaded', () => {
  it('says why in one line, without a stack trace, and starts FerretDB', async () => {
    const { db, lines } = await startCapturingOutput();

    expect(db.engine).toBe('ferretdb');
    expect(lines).toEqual([
      expect.stringMatching(
        /^embedded database: mongod could not be downloaded from 127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); using FerretDB 1\.24 instead$/,
      ),
    ]);
    // Only FerretDB's build could print more, and it is already there after the first run.
    expect(lines.join('\n')).not.toMatch(/^\s+at /m);
  });

  it('remembers the failure for a day: the next start goes to FerretDB without a word', async () => {
    expect((await readFile(marker, 'utf8')).split('\n')[1]).toMatch(/could not be downloaded/);

    const { db, lines } = await startCapturingOutput();

    expect(db.engine).toBe('ferretdb');
    expect(lines).toEqual([]);
  });
});
