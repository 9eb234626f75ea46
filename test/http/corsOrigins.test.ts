import { corsOriginMatcher } from '../../src/http/corsOrigins';

function allows(origins: readonly string[], origin: string): boolean {
  const matcher = corsOriginMatcher(origins);
  if (!matcher) return false;
  return matcher.some((entry) =>
    typeof entry === 'string' ? entry === origin : entry.test(origin),
  );
}

describe('corsOriginMatcher', () => {
  it('turns an empty allowlist into "no CORS at all"', () => {
    expect(corsOriginMatcher([])).toBe(false);
  });

  it.each([
    ['http://localhost:*', 'http://localhost', true],
    ['http://localhost:*', 'http://localhost:5173', true],
    ['http://localhost:*', 'https://localhost:5173', false],
    ['http://localhost:*', 'http://localhost.evil.example', false],
    ['http://localhost:*', 'http://localhost:5173.evil.example', false],
    ['http://[::1]:*', 'http://[::1]:8080', true],
    ['http://127.0.0.1:*', 'http://127.0.0.1:3000', true],
    ['http://127.0.0.1:*', 'http://127.0.0.10:3000', false],
    ['https://app.example.com', 'https://app.example.com', true],
    ['https://app.example.com', 'https://app.example.com:8443', false],
    ['https://app.example.com', 'https://appxexample.com', false],
  ])('%s allows %s: %p', (entry, origin, expected) => {
    expect(allows([entry], origin)).toBe(expected);
  });
});
