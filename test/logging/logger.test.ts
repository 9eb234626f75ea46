import { spawn } from 'node:child_process';
import Fastify from 'fastify';
import {
  boundedLogStream,
  loggerOptions,
  pathOf,
  prettyLogStream,
  wantsPrettyLogs,
} from '../../src/logging/logger';
import { captureLogs } from '../helpers/logCapture';

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

  it('says how many lines it dropped once the output is read again', () => {
    let drain: (() => void) | undefined;
    const written: string[] = [];
    let pending = 0;
    const out = {
      get writableLength() {
        return pending;
      },
      write(chunk: string) {
        written.push(chunk);
        pending += chunk.length;
        return false;
      },
      once(_event: 'drain', listener: () => void) {
        drain = listener;
      },
    };
    const stream = boundedLogStream(out, 100);
    stream.write('a'.repeat(60));
    stream.write('b'.repeat(60));
    stream.write('c'.repeat(60));
    expect(written).toEqual(['a'.repeat(60)]);
    pending = 0;
    drain?.();
    expect(JSON.parse(written[1]!)).toMatchObject({ level: 40, dropped: 2 });
    pending = 0;
    stream.write('d');
    expect(written[2]).toBe('d');
  });
});
