import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { TrustProxy } from '../config';
import { corsOriginMatcher } from '../http/corsOrigins';

/**
 * The client address of an upgrade request, decided like Fastify decides `request.ip` for HTTP
 * (TRUST_PROXY, docs/security.md), so both count the same client the same way.
 */
export function clientAddressResolver(trust: TrustProxy): (request: IncomingMessage) => string {
  let trusted: (address: string, hop: number) => boolean;
  if (typeof trust === 'boolean') trusted = () => trust;
  else if (typeof trust === 'number') trusted = (_address, hop) => hop < trust;
  else trusted = proxyAddr.compile([...trust]);
  return (request) => proxyAddr(request, trusted);
}

/**
 * Whether an upgrade request's `Origin` may open a socket: absent (a non-browser client, which
 * CORS does not concern either) or allowed by CORS_ORIGINS. Browsers do not apply CORS to
 * WebSockets, so without this check any web page could open one with a visitor's token.
 */
export function originChecker(origins: readonly string[]): (origin: string | undefined) => boolean {
  const allowed = corsOriginMatcher(origins);
  return (origin) => {
    if (origin === undefined) return true;
    if (allowed === false) return false;
    const candidate = origin.toLowerCase();
    return allowed.some((entry) =>
      typeof entry === 'string' ? entry === candidate : entry.test(candidate),
    );
  };
}
