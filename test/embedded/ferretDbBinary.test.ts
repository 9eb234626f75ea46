import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ferretDbBinary } from '../../src/embedded/ferretDbBinary';

let tempDir: string;

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'gja-ferretdb-test-'));
});

afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

/** A stand-in for scripts/ferretdb.sh with the given body. */
async function script(name: string, body: string): Promise<string> {
  const file = path.join(tempDir, `${name}.sh`);
  await writeFile(file, `set -euo pipefail\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

async function run(
  scriptFile: string,
): Promise<{ binary: string | Error; lines: string[]; linesLater: string[] }> {
  const lines: string[] = [];
  const binary = await ferretDbBinary({
    script: scriptFile,
    progressIntervalMs: 100,
    log: (message) => lines.push(message),
  }).catch((error: Error) => error);
  const soFar = [...lines];
  // Nothing more once the script is done.
  await new Promise((resolve) => setTimeout(resolve, 350));
  return { binary, lines: soFar, linesLater: lines.slice(soFar.length) };
}

describe('ferretDbBinary', () => {
  it('says nothing when the binary is already built', async () => {
    const cached = await script('cached', 'echo /cache/ferretdb');

    expect(await run(cached)).toEqual({ binary: '/cache/ferretdb', lines: [], linesLater: [] });
  });

  it('reports a build as it starts and then every interval until it ends', async () => {
    const building = await script(
      'building',
      [
        'echo "ferretdb.sh: building FerretDB 1.24.2 (first run); Go\'s output goes to /x/build.log" >&2',
        'sleep 0.75',
        'echo /cache/ferretdb',
      ].join('\n'),
    );

    const { binary, lines, linesLater } = await run(building);

    expect(binary).toBe('/cache/ferretdb');
    expect(lines[0]).toBe("building FerretDB 1.24.2 (first run); Go's output goes to /x/build.log");
    const progress = lines.slice(1);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    for (const line of progress) {
      expect(line).toMatch(/^building FerretDB 1\.24\.2 \(first run\): \d+ s elapsed…$/);
    }
    expect(linesLater).toEqual([]);
  });

  it('switches to the build when it stops waiting for another process', async () => {
    const waited = await script(
      'waited',
      [
        'echo "ferretdb.sh: waiting for another process building FerretDB" >&2',
        'sleep 0.25',
        'echo "ferretdb.sh: building FerretDB" >&2',
        'sleep 0.25',
        'echo /cache/ferretdb',
      ].join('\n'),
    );

    const { lines } = await run(waited);

    const building = lines.indexOf('building FerretDB');
    expect(lines[0]).toBe('waiting for another process building FerretDB');
    expect(building).toBeGreaterThan(0);
    expect(lines.slice(building + 1).every((line) => line.startsWith('building FerretDB:'))).toBe(
      true,
    );
  });

  it("fails with the script's explanation, not its progress lines", async () => {
    const failing = await script(
      'failing',
      [
        'echo "ferretdb.sh: building FerretDB 1.24.2; Go\'s output goes to /x/build.log" >&2',
        'echo "ferretdb.sh: FerretDB v1.24.2 could not be built; the last lines of /x/build.log:" >&2',
        'echo "go: module lookup disabled" >&2',
        'exit 1',
      ].join('\n'),
    );

    const { binary, linesLater } = await run(failing);

    expect(binary).toBeInstanceOf(Error);
    expect((binary as Error).message).toBe(
      'Could not build FerretDB: ferretdb.sh: FerretDB v1.24.2 could not be built; the last lines of /x/build.log:\ngo: module lookup disabled',
    );
    expect(linesLater).toEqual([]);
  });
});
