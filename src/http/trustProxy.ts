import { BlockList, isIPv4 } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { TrustProxy } from '../config';

/** Fastify's `trustProxy` option for the configured TRUST_PROXY. */
export function fastifyTrustProxy(
  trust: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  // Fastify takes a hop count at run time, but its types do not; proxy-addr counts hops from 0.
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}

// Where a reverse proxy in front of the API usually connects from: the same host, a container
// network or a private network.
const PRIVATE_PEERS = new BlockList();
PRIVATE_PEERS.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE_PEERS.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE_PEERS.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE_PEERS.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE_PEERS.addSubnet('169.254.0.0', 16, 'ipv4');
PRIVATE_PEERS.addAddress('::1', 'ipv6');
PRIVATE_PEERS.addSubnet('fc00::', 7, 'ipv6');
PRIVATE_PEERS.addSubnet('fe80::', 10, 'ipv6');

/** True for a loopback, private or link-local address (IPv4-mapped IPv6 included). */
export function isPrivatePeer(address: string | undefined): boolean {
  if (!address) return false;
  const mapped = address.startsWith('::ffff:') ? address.slice(7) : address;
  return PRIVATE_PEERS.check(mapped, isIPv4(mapped) ? 'ipv4' : 'ipv6');
}

const WARNING_INTERVAL_MS = 10 * 60_000;

/**
 * With TRUST_PROXY off, a request from a private address that carries X-Forwarded-For most likely
 * came through a proxy nobody told the API about: every client then shares the proxy's address
 * and its per-IP limits. Says so in the log, at most every ten minutes.
 */
export function registerForwardedForWarning(app: FastifyInstance, trust: TrustProxy): void {
  if (trust !== false && trust !== 0) return;
  let warnedAt = -Infinity;
  app.addHook('onRequest', (request, _reply, done) => {
    const now = Date.now();
    if (
      now - warnedAt >= WARNING_INTERVAL_MS &&
      request.headers['x-forwarded-for'] !== undefined &&
      isPrivatePeer(request.socket.remoteAddress)
    ) {
      warnedAt = now;
      request.log.warn(
        { peer: request.socket.remoteAddress },
        'X-Forwarded-For from a private address while TRUST_PROXY is off: if a proxy is in front, set TRUST_PROXY to its hop count or addresses, or every client shares its per-IP limits (docs/security.md)',
      );
    }
    done();
  });
}
