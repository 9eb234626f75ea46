import type { LogStream } from '../../src/logging/logger';

/** One parsed JSON log line. */
export type LogLine = Record<string, unknown>;

export interface LogCapture {
  readonly stream: LogStream;
  /** Everything written so far, as written. */
  text(): string;
  /** Every line, parsed; fails the test on a line that is not JSON. */
  lines(): LogLine[];
  /** Lines whose `event` field is `event`. */
  events(event: string): LogLine[];
}

/** Collects the JSON lines a server logs, for assertions. */
export function captureLogs(): LogCapture {
  let text = '';
  const lines = (): LogLine[] =>
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LogLine);
  return {
    stream: {
      write(chunk: string) {
        text += chunk;
      },
    },
    text: () => text,
    lines,
    events: (event) => lines().filter((line) => line.event === event),
  };
}
