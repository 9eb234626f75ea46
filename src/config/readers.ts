import { KeyObject } from 'node:crypto';

/** The environment as the config reads it. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration problem that stops the start; its message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses `900`, `900s`, `15m`, `12h` or `30d` into whole seconds. */
export function parseDuration(variable: string, value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  const amount = match ? Number(match[1]) : NaN;
  const unit = match?.[2] || 's';
  const seconds = amount * (DURATION_UNITS[unit] ?? NaN);
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new ConfigError(
      variable,
      `must be a positive duration such as 900, 15m, 12h or 30d (got "${value}")`,
    );
  }
  return seconds;
}

export function readInt(
  env: Env,
  variable: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(variable, `must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

export function readBool(env: Env, variable: string, fallback: boolean): boolean {
  const raw = env[variable]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(variable, `must be true or false (got "${raw}")`);
}

export function readChoice<T extends string>(
  env: Env,
  variable: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const found = choices.find((choice) => choice === raw);
  if (!found)
    throw new ConfigError(variable, `must be one of ${choices.join(', ')} (got "${raw}")`);
  return found;
}

export function readText(env: Env, variable: string, fallback: string): string {
  const raw = env[variable]?.trim();
  return raw === undefined || raw === '' ? fallback : raw;
}

export function readDuration(env: Env, variable: string, fallback: string): number {
  return parseDuration(variable, readText(env, variable, fallback));
}

/** Freezes a config object and everything in it. */
export function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const inner of Object.values(value)) {
    // Node caches key details on the KeyObject itself, so freezing one breaks it; it is immutable.
    if (inner instanceof KeyObject) continue;
    if (inner && typeof inner === 'object') deepFreeze(inner as object);
  }
  return Object.freeze(value);
}
