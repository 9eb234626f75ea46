import { spawn } from 'node:child_process';
import path from 'node:path';
import { reportProgress } from './progress';

const BUILD_SCRIPT = path.resolve(__dirname, '../../scripts/ferretdb.sh');
const BUILD_TIMEOUT_MS = 15 * 60 * 1000;
// The script announces a long wait with a line `ferretdb.sh: building …` or `ferretdb.sh: waiting
// …`; the text up to a `;` names the step in the progress lines.
const LONG_STEP = /^ferretdb\.sh: ((?:building|waiting)\b[^;]*)(.*)$/;

export interface FerretDbBinaryOptions {
  /** Progress messages for people (stderr by default). */
  readonly log?: (message: string) => void;
  /** How often a build in progress says how long it has taken; 5 s by default. */
  readonly progressIntervalMs?: number;
  /** The build script, `scripts/ferretdb.sh` by default (tests use a stand-in). */
  readonly script?: string;
}

/**
 * Path of the cached FerretDB binary, built from the Go module proxy on first use. While that
 * build (about two minutes) runs, `log` hears what is happening and then a progress line every few
 * seconds; Go's own output stays in a log file the script names, shown (its tail) only on failure.
 */
export async function ferretDbBinary(options: FerretDbBinaryOptions = {}): Promise<string> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const child = spawn('bash', [options.script ?? BUILD_SCRIPT], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partialLine = '';
  let stopProgress: (() => void) | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
    const lines = (partialLine + chunk).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) {
      const step = LONG_STEP.exec(line);
      if (!step) continue;
      stopProgress?.();
      log(`${step[1]}${step[2]}`);
      stopProgress = reportProgress(step[1]!.trim(), log, options.progressIntervalMs);
    }
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill();
  }, BUILD_TIMEOUT_MS);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) {
      const detail = timedOut
        ? `no binary after ${BUILD_TIMEOUT_MS / 60_000} minutes`
        : // The step lines were shown as they came; the error keeps what explains the failure.
          stderr
            .split('\n')
            .filter((line) => !LONG_STEP.test(line))
            .join('\n')
            .trim() || `the build script exited with ${code ?? 'a signal'}`;
      throw new Error(`Could not build FerretDB: ${detail}`);
    }
  } finally {
    clearTimeout(timer);
    stopProgress?.();
  }
  return stdout.trim().split('\n').pop() ?? '';
}
