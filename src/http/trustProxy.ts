import type { TrustProxy } from '../config';

/** Fastify's `trustProxy` option for the configured TRUST_PROXY. */
export function fastifyTrustProxy(
  trust: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  // Fastify takes a hop count at run time, but its types do not; proxy-addr counts hops from 0.
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}
