import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import {
  boundedLogStream,
  loggerOptions,
  pathOf,
  prettyLogStream,
  wantsPrettyLogs,
} from '../../src/logging/logger';
import { captureLogs } from '../helpers/logCapture';

/** What a Node script run from the repository root, TypeScript imports allowed, wrote to stdout. */
async function stdoutOfScript(lines: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '-e', lines.join('\n')],
    { cwd: path.resolve(__dirname, '../..') },
  );
  return stdout;
}

describe('loggerOptions', () => {
  function logWith(object: Record<string, unknown>): string {
    const logs = captureLogs();
    Fastify({ logger: loggerOptions('info', logs.stream) }).log.info(object, 'line');
    return logs.text();
  }

  it.each([
    ['password', { password: 'hunter2-secret' }],
    ['a nested password', { input: { password: 'hunter2-secret' } }],
    [
      'currentPassword / newPassword',
      { args: { currentPassword: 'hunter2-secret', newPassword: 'x' } },
    ],
    ['a refresh token', { refreshToken: 'hunter2-secret' }],
    ['an access token', { data: { accessToken: 'hunter2-secret' } }],
    ['GraphQL variables', { variables: { anything: 'hunter2-secret' } }],
    ['an Authorization header', { headers: { authorization: 'Bearer hunter2-secret' } }],
    ['a cookie', { headers: { cookie: 'sid=hunter2-secret' } }],
  ])('redacts %s', (_case, object) => {
    const text = logWith(object);
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('hunter2-secret');
  });

  it('describes a request by method and path only', () => {
    const request = {
      method: 'GET',
      url: '/graphql?variables=hunter2-secret',
      headers: { authorization: 'Bearer hunter2-secret' },
    };
    const line = JSON.parse(logWith({ req: request })) as Record<string, unknown>;
    expect(line.req).toEqual({ method: 'GET', path: '/graphql' });
  });

  it('writes one JSON object per line with level and time', () => {
    const line = JSON.parse(logWith({ userId: 'u1' })) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, userId: 'u1', msg: 'line' });
    expect(typeof line.time).toBe('number');
  });
});

describe('pathOf', () => {
  it('drops the query string, where GET requests carry GraphQL variables', () => {
    expect(pathOf('/graphql?query=x&variables=%7B%22password%22%7D')).toBe('/graphql');
    expect(pathOf('/health')).toBe('/health');
  });
});

describe('wantsPrettyLogs', () => {
  it.each([
    ['auto', false, true, true],
    ['auto', false, false, false],
    ['auto', true, true, false],
    ['pretty', true, false, true],
    ['json', false, true, false],
  ] as const)(
    'LOG_FORMAT=%s, production %s, terminal %s: pretty %s',
    (format, isProduction, isTerminal, expected) => {
      expect(wantsPrettyLogs(format, { isProduction, isTerminal })).toBe(expected);
    },
  );
});

describe('prettyLogStream', () => {
  it('writes a JSON line as a readable one', () => {
    const chunks: string[] = [];
    const stream = prettyLogStream({ write: (chunk: string) => void chunks.push(String(chunk)) });
    expect(stream).toBeDefined();
    stream!.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: 'hello there' })}\n`);
    const text = chunks.join('');
    expect(text).toContain('INFO');
    expect(text).toContain('hello there');
    expect(text).not.toContain('"msg"');
  });

  it('writes to stdout, and loses no line when the process exits right after logging', async () => {
    const stdout = await stdoutOfScript([
      "const { prettyLogStream } = require('./src/logging/logger.ts');",
      'const stream = prettyLogStream();',
      "stream.write(JSON.stringify({ level: 30, time: Date.now(), msg: 'first line' }) + '\\n');",
      "stream.write(JSON.stringify({ level: 40, time: Date.now(), msg: 'second line' }) + '\\n');",
      'process.exit(0);',
    ]);
    expect(stdout).toMatch(/INFO.*first line[^]*WARN.*second line/);
  });
});

describe('boundedLogStream', () => {
  it('keeps at most the bound waiting on an unread pipe, and counts what it drops', async () => {
    // A real pipe whose reader never reads.
    const reader = spawn('sleep', ['30'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      const pipe = reader.stdin;
      pipe.on('error', () => undefined);
      const bound = 256 * 1024;
      const stream = boundedLogStream(pipe, bound);
      const line = `${JSON.stringify({ level: 30, msg: 'x'.repeat(500) })}\n`;
      for (let i = 0; i < 20_000; i += 1) stream.write(line);
      // Whatever was still pending goes to the pipe too, and the bound holds with it.
      stream.flush();
      expect(pipe.writableLength).toBeLessThanOrEqual(bound);
      // 10 MB were logged; the pipe holds 64 KiB and the buffer the bound, the rest is counted.
      expect(stream.dropped()).toBeGreaterThan(15_000);
    } finally {
      // Nothing may outlive the test: the pipe's unsent bytes go, and the reader is awaited.
      const exited = new Promise((resolve) => reader.once('exit', resolve));
      reader.stdin.destroy();
      reader.kill('SIGKILL');
      await exited;
    }
  });

  /**
   * An output that records each write and never drains by itself, as a pipe nobody reads;
   * `readAll()` empties it and tells the stream, as a reader catching up would.
   */
  function recordingOutput(): {
    out: NonNullable<Parameters<typeof boundedLogStream>[0]>;
    writes: string[];
    readAll: () => void;
  } {
    const writes: string[] = [];
    let held = 0;
    let drain: (() => void) | undefined;
    return {
      writes,
      out: {
        get writableLength() {
          return held;
        },
        write(chunk: string) {
          writes.push(chunk);
          held += chunk.length;
          return false;
        },
        once(_event: 'drain', listener: () => void) {
          drain = listener;
        },
      },
      readAll() {
        held = 0;
        const listener = drain;
        drain = undefined;
        listener?.();
      },
    };
  }

  it('says how many lines it dropped once the output is read again', () => {
    const { out, writes: written, readAll } = recordingOutput();
    const stream = boundedLogStream(out, 100);
    stream.write('a'.repeat(60));
    stream.write('b'.repeat(60));
    stream.write('c'.repeat(60));
    expect(written).toEqual(['a'.repeat(60)]);
    readAll();
    expect(JSON.parse(written[1]!)).toMatchObject({ level: 40, dropped: 2 });
    readAll();
    stream.write('d');
    stream.flush();
    expect(written[2]).toBe('d');
  });

  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('writes the lines of one turn of the event loop in one write, in order', async () => {
    const { out, writes } = recordingOutput();
    const stream = boundedLogStream(out);
    stream.write('first\n');
    stream.write('second\n');
    stream.write('third\n');
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(['first\nsecond\nthird\n']);
    stream.write('fourth\n');
    await nextTurn();
    expect(writes).toEqual(['first\nsecond\nthird\n', 'fourth\n']);
  });

  it('writes before the turn ends once 64 KiB are pending', () => {
    const { out, writes } = recordingOutput();
    const stream = boundedLogStream(out);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 64; i += 1) stream.write(line);
    expect(writes).toEqual([line.repeat(64)]);
  });

  it('counts pending lines towards the bound', async () => {
    const { out, writes } = recordingOutput();
    const stream = boundedLogStream(out, 1000);
    const lines = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(99, '0')}\n`);
    for (const line of lines) stream.write(line);
    await nextTurn();
    // Ten lines of 100 characters fill the bound; the other forty are dropped, not held.
    expect(writes.join('')).toBe(lines.slice(0, 10).join(''));
    expect(out.writableLength).toBeLessThanOrEqual(1000);
    expect(stream.dropped()).toBe(40);
  });

  it('adds at most one exit listener, however many streams hold pending lines', () => {
    const before = process.listenerCount('exit');
    const streams = Array.from({ length: 20 }, () => boundedLogStream(recordingOutput().out));
    for (const stream of streams) stream.write('line\n');
    expect(process.listenerCount('exit')).toBeLessThanOrEqual(before + 1);
    for (const stream of streams) stream.flush();
  });

  it('writes the pending lines when the process exits right after logging them', async () => {
    const stdout = await stdoutOfScript([
      "const { boundedLogStream } = require('./src/logging/logger.ts');",
      'const stream = boundedLogStream();',
      'for (let i = 0; i < 100; i += 1) stream.write(`line ${i}\\n`);',
      'process.exit(0);',
    ]);
    expect(stdout).toBe(Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(''));
  });
});
