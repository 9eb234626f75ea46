import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import type PinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel } from '../config';

/** Fastify's `logger` option in its object form: Fastify's own settings plus pino's. */
export type LoggerOptions = Exclude<FastifyServerOptions['logger'], boolean | undefined>;

/** Where log lines go; stdout unless a test captures them. */
export interface LogStream {
  write(line: string): void;
}

/**
 * Keys whose values never reach a log line, wherever they turn up in a logged object (one level
 * down; nothing deeper is ever logged). GraphQL variables carry passwords and tokens, so they are
 * dropped as a whole.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...[
    'authorization',
    'cookie',
    'password',
    'currentPassword',
    'newPassword',
    'passwordHash',
    'token',
    'accessToken',
    'refreshToken',
    'secret',
    'variables',
  ].flatMap((key) => [key, `*.${key}`]),
];

/** The path of a URL without its query string, which may hold GraphQL variables. */
export function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** Minimal logger for reports from background work (purges, pools). */
export interface EventLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Default bound of the lines waiting for stdout to take them. */
export const LOG_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Past this much pending text, lines go out before the turn ends: a write of 64 KiB already costs
 * little per line, and a burst of lines (a flood of errors) need not pile up in one string.
 */
const FLUSH_BYTES = 64 * 1024;

interface Writable {
  readonly writableLength: number;
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * The flush of every bounded stream that holds pending text. One `exit` listener serves them all,
 * so creating many streams (as the tests do) adds no listener per stream.
 */
const pendingFlushes = new Set<() => void>();
let exitHookInstalled = false;

function flushPendingAtExit(): void {
  for (const flush of [...pendingFlushes]) flush();
}

/** A bounded log stream, as made by {@link boundedLogStream}. */
export interface BoundedLogStream extends LogStream {
  /** How many lines were dropped since the stream was made. */
  dropped(): number;
  /**
   * Hands the pending lines to the output now, then calls `done`. Pino's `logger.flush(done)`
   * calls this, and waits for `done`.
   */
  flush(done?: () => void): void;
}

/**
 * Lines to `out` (stdout) without ever blocking the process on it, and without unbounded memory:
 * when a log collector stops reading, lines wait in memory up to `maxBytes`, then are dropped and
 * counted, and one line says how many once the collector reads again (docs/operations.md). A
 * synchronous write would stop the event loop, and with it shutdown, until someone reads.
 *
 * The lines of one turn of the event loop reach `out` in one write, at the end of the turn (or as
 * soon as 64 KiB are pending): a write per line is a system call per line, a measurable share of
 * the CPU a request costs. Lines still pending when the process exits are written from its
 * `exit` event, so `process.exit` right after logging loses nothing.
 */
export function boundedLogStream(
  out: Writable = process.stdout,
  maxBytes = LOG_BUFFER_BYTES,
): BoundedLogStream {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', flushPendingAtExit);
  }
  let pending = '';
  let flushScheduled = false;
  let dropped = 0;
  let droppedTotal = 0;
  let waitingForDrain = false;
  const flush = (): void => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    pendingFlushes.delete(flush);
    out.write(text);
  };
  const flushAtEndOfTurn = (): void => {
    flushScheduled = false;
    flush();
  };
  const reportDropped = (): void => {
    waitingForDrain = false;
    if (dropped === 0) return;
    const line = JSON.stringify({
      level: 40,
      time: Date.now(),
      msg: 'log lines dropped: the log output was not being read',
      dropped,
    });
    dropped = 0;
    // Lines taken before this drain come first: they were logged before the report.
    flush();
    out.write(`${line}\n`);
  };
  return {
    write(line: string) {
      if (pending.length + out.writableLength + line.length > maxBytes) {
        // Pending text counts towards the bound, yet the output may take it at once (a pipe with
        // room): hand it over first, so a line is dropped only when the output itself is full.
        flush();
        if (out.writableLength + line.length > maxBytes) {
          dropped += 1;
          droppedTotal += 1;
          if (!waitingForDrain) {
            waitingForDrain = true;
            out.once('drain', reportDropped);
          }
          return;
        }
      }
      if (pending === '') pendingFlushes.add(flush);
      pending += line;
      if (pending.length >= FLUSH_BYTES) {
        flush();
      } else if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAtEndOfTurn);
      }
    },
    dropped: () => droppedTotal,
    flush(done?: () => void) {
      flush();
      done?.();
    },
  };
}

/** Decides whether lines are written for people: `auto` means a developer's terminal. */
export function wantsPrettyLogs(
  format: LogFormat,
  environment: { readonly isProduction: boolean; readonly isTerminal: boolean },
): boolean {
  if (format !== 'auto') return format === 'pretty';
  return !environment.isProduction && environment.isTerminal;
}

/**
 * A stream that turns pino's JSON lines into readable ones. They are formatted in this thread, not
 * in a transport's worker, and written through {@link boundedLogStream}, so nothing is lost at
 * exit. pino-pretty is a development dependency: where it is not installed (the production image)
 * this returns undefined and lines stay JSON. `destination` is stdout unless given.
 */
export function prettyLogStream(destination?: LogStream): LogStream | undefined {
  try {
    // Loaded on demand so production never needs the package.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as typeof PinoPretty;
    const format = pretty.prettyFactory({
      colorize: !destination,
      translateTime: 'HH:MM:ss.l',
      ignore: 'pid,hostname',
    });
    const out = destination ?? boundedLogStream();
    return {
      write(line: string) {
        out.write(format(line));
      },
    };
  } catch {
    return undefined;
  }
}

/**
 * Pino settings for the server: JSON lines (unless `stream` formats them), secrets redacted,
 * requests described by method and path only.
 */
export function loggerOptions(level: LogLevel, stream?: LogStream): LoggerOptions {
  return {
    level,
    ...(stream ? { stream } : {}),
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    serializers: {
      // Headers and query strings stay out: they carry bearer tokens, cookies and variables.
      req: (request: Partial<FastifyRequest>) => ({
        method: request.method,
        path: pathOf(request.url ?? ''),
      }),
    },
  };
}
