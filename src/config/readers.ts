import { KeyObject } from 'node:crypto';

/** The environment as the config reads it. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Configuration problems that stop the start; the message names every bad variable, one per line
 * when there are several, so one attempt tells an operator everything to fix.
 */
export class ConfigError extends Error {
  /** Each problem as `VARIABLE problem`. */
  readonly problems: readonly string[];

  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
    this.problems = [`${variable} ${problem}`];
  }

  /** One error listing all of `errors` (which must not be empty). */
  static combine(errors: readonly ConfigError[]): ConfigError {
    const [first, ...rest] = errors;
    if (!first) throw new Error('no configuration errors to combine');
    if (rest.length === 0) return first;
    const problems = errors.flatMap((error) => error.problems);
    const combined = new ConfigError(first.variable, '');
    Object.assign(combined, {
      problems,
      message: `Invalid configuration (${problems.length} problems):\n${problems
        .map((problem) => `  - ${problem}`)
        .join('\n')}`,
    });
    return combined;
  }
}

// The problems found so far while a whole configuration is read; undefined otherwise.
let collected: ConfigError[] | undefined;

/**
 * Reports a bad variable. While {@link collectConfigErrors} reads a configuration, the problem is
 * noted and `fallback` returned so reading goes on to find the others; otherwise it is thrown.
 */
export function invalid<T>(variable: string, problem: string, fallback: T): T {
  const error = new ConfigError(variable, problem);
  if (!collected) throw error;
  collected.push(error);
  return fallback;
}

/** Runs `read` and throws one ConfigError naming every bad variable it came across. */
export function collectConfigErrors<T>(read: () => T): T {
  const outer = collected;
  const mine: ConfigError[] = [];
  collected = mine;
  let value: T | undefined;
  try {
    value = read();
  } catch (error) {
    // A problem that cannot be read past (a key that does not parse) ends the reading; it is
    // reported with everything found before it.
    if (!(error instanceof ConfigError)) throw error;
    mine.push(error);
  } finally {
    collected = outer;
  }
  if (mine.length > 0) throw ConfigError.combine(mine);
  return value as T;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses `900`, `900s`, `15m`, `12h` or `30d` into whole seconds. */
export function parseDuration(variable: string, value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  const amount = match ? Number(match[1]) : NaN;
  const unit = match?.[2] || 's';
  const seconds = amount * (DURATION_UNITS[unit] ?? NaN);
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    return invalid(
      variable,
      `must be a positive duration such as 900, 15m, 12h or 30d (got "${value}")`,
      1,
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
    return invalid(variable, `must be an integer from ${min} to ${max} (got "${raw}")`, fallback);
  }
  return value;
}

/** Like {@link readInt}, but unset (or empty) means off: `undefined`. */
export function readOptionalInt(
  env: Env,
  variable: string,
  min: number,
  max: number,
): number | undefined {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return undefined;
  return readInt(env, variable, min, min, max);
}

export function readBool(env: Env, variable: string, fallback: boolean): boolean {
  const raw = env[variable]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  return invalid(variable, `must be true or false (got "${raw}")`, fallback);
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
  return (
    found ?? invalid(variable, `must be one of ${choices.join(', ')} (got "${raw}")`, fallback)
  );
}

export function readText(env: Env, variable: string, fallback: string): string {
  const raw = env[variable]?.trim();
  return raw === undefined || raw === '' ? fallback : raw;
}

export function readDuration(env: Env, variable: string, fallback: string): number {
  return parseDuration(variable, readText(env, variable, fallback));
}

/**
 * A duration that `0` (or `0s`, `0m`…) turns off: 0 then, whole seconds otherwise, read like every
 * other duration variable.
 */
export function readDurationOrOff(env: Env, variable: string, fallback: string): number {
  const text = readText(env, variable, fallback);
  return /^0+\s*[smhd]?$/.test(text) ? 0 : parseDuration(variable, text);
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
