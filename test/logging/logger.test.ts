import Fastify from 'fastify';
import { loggerOptions, pathOf, prettyLogStream, wantsPrettyLogs } from '../../src/logging/logger';
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
