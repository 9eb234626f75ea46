import { isIP } from 'node:net';
import { invalid, readBool, readInt, type Env } from './readers';

/** Which proxies may set X-Forwarded-For: none, any, a hop count, or addresses/CIDR ranges. */
export type TrustProxy = boolean | number | readonly string[];

// Named ranges proxy-addr understands besides addresses and CIDR blocks.
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

export function readTrustProxy(env: Env, isProduction: boolean): TrustProxy {
  const raw = env.TRUST_PROXY?.trim();
  if (raw === undefined || raw === '') return false;
  if (/^\d+$/.test(raw)) return readInt(env, 'TRUST_PROXY', 0, 0, 100);
  if (/^(true|false|yes|no|on|off)$/i.test(raw)) {
    const trustAll = readBool(env, 'TRUST_PROXY', false);
    // With `true` the left-most X-Forwarded-For entry decides, and a client writes that one
    // itself: every per-IP limit would be the client's to choose (docs/security.md).
    if (trustAll && isProduction) {
      return invalid(
        'TRUST_PROXY',
        'must not be true in production: any client could choose its own address. Set the number of proxies in front (1 for one) or their addresses/CIDR ranges',
        false,
      );
    }
    return trustAll;
  }
  const entries = raw.split(',').map((entry) => entry.trim().toLowerCase());
  const bad = entries.find((entry) => !isAddressOrRange(entry));
  if (bad !== undefined) {
    return invalid(
      'TRUST_PROXY',
      `must be false, a hop count, or addresses/CIDR ranges separated by commas (got "${bad}")`,
      false,
    );
  }
  return entries;
}

const DEVELOPMENT_CORS_ORIGINS = [
  'http://localhost:*',
  'http://127.0.0.1:*',
  'http://[::1]:*',
  'https://studio.apollographql.com',
];
const ORIGIN_PATTERN = /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:(\d{1,5}|\*))?$/;

export function readCorsOrigins(env: Env, isProduction: boolean): readonly string[] {
  const raw = env.CORS_ORIGINS?.trim();
  if (raw === undefined || raw === '') return isProduction ? [] : DEVELOPMENT_CORS_ORIGINS;
  if (raw.toLowerCase() === 'none') return [];
  return raw.split(',').map((entry) => {
    const origin = entry.trim().toLowerCase().replace(/\/$/, '');
    if (!ORIGIN_PATTERN.test(origin)) {
      return invalid(
        'CORS_ORIGINS',
        `must list origins such as https://app.example.com or http://localhost:* separated by commas (got "${entry.trim()}")`,
        origin,
      );
    }
    return origin;
  });
}
