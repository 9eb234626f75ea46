import type { Config } from '../../src/config';

/**
 * How long to wait until an access token issued now is refused as expired: its lifetime plus the
 * verifier's clock leeway, plus a margin for whole-second `iat`/`exp` values.
 */
export function accessTokenExpiryMs(config: Config): number {
  return (config.jwt.accessTokenTtl + config.jwt.clockToleranceSeconds) * 1000 + 1000;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
