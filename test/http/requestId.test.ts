import { requestIdFrom } from '../../src/http/requestId';
import { captureLogs } from '../helpers/logCapture';
import { startTestServer, type TestServer } from '../helpers/testServer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('requestIdFrom', () => {
  it('keeps a short id made of letters, digits and . _ : -', () => {
    expect(requestIdFrom('req-42_a.b:c')).toBe('req-42_a.b:c');
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['with spaces', 'a b'],
    ['with a line break', 'abc\n{"level":60}'],
    ['with quotes', 'a"b'],
    ['longer than 128 characters', 'a'.repeat(129)],
  ])('makes a new UUID when the header is %s', (_case, header) => {
    expect(requestIdFrom(header)).toMatch(UUID);
  });
});

describe('the x-request-id response header', () => {
  let api: TestServer;
  const logs = captureLogs();

  beforeAll(async () => {
    api = await startTestServer({ logStream: logs.stream });
  });

  afterAll(async () => {
    await api.close();
  });

  it('echoes the id the caller sent', async () => {
    const response = await api.gql('{ __typename }', undefined, {
      headers: { 'x-request-id': 'trace-abc-123' },
    });
    expect(response.headers.get('x-request-id')).toBe('trace-abc-123');
  });

  it('is generated when the caller sent none, different for every request', async () => {
    const first = (await fetch(`${api.url}/health`)).headers.get('x-request-id');
    const second = (await fetch(`${api.url}/health`)).headers.get('x-request-id');
    expect(first).toMatch(UUID);
    expect(second).toMatch(UUID);
    expect(first).not.toBe(second);
  });

  it('replaces an id that is too long or unsafe', async () => {
    const response = await api.gql('{ __typename }', undefined, {
      headers: { 'x-request-id': 'x'.repeat(500) },
    });
    expect(response.headers.get('x-request-id')).toMatch(UUID);
  });

  it('is the reqId of the request log line', async () => {
    await api.gql('query Probe { __typename }', undefined, {
      headers: { 'x-request-id': 'find-me-in-the-log' },
    });
    const line = logs
      .lines()
      .find((entry) => entry.reqId === 'find-me-in-the-log' && entry.msg === 'request completed');
    expect(line).toMatchObject({
      method: 'POST',
      path: '/graphql',
      operation: 'Probe',
      statusCode: 200,
    });
  });
});
