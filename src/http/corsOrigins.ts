/**
 * Turns the CORS_ORIGINS allowlist into what @fastify/cors accepts: exact origins as strings and
 * `scheme://host:*` entries as patterns matching that host on any port (or none).
 */
export function corsOriginMatcher(origins: readonly string[]): Array<string | RegExp> | false {
  if (origins.length === 0) return false;
  return origins.map((origin) => {
    if (!origin.endsWith(':*')) return origin;
    const base = origin.slice(0, -2).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`^${base}(:\\d{1,5})?$`, 'i');
  });
}

/** True when `origin` is on the CORS_ORIGINS allowlist, with the same matching as CORS itself. */
export function isListedOrigin(origin: string, origins: readonly string[]): boolean {
  const matcher = corsOriginMatcher(origins);
  if (!matcher) return false;
  return matcher.some((entry) =>
    typeof entry === 'string' ? entry === origin : entry.test(origin),
  );
}
