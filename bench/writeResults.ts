import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';

const START = '<!-- bench:results:start (written by npm run bench; edit outside these markers) -->';
const END = '<!-- bench:results:end -->';

/**
 * Puts the latest results between the markers of `file`, keeping everything else (the hand-written
 * method notes and change log) as it is, and formats the file the way the lint check expects. A
 * missing file or missing markers get a fresh section.
 */
export async function writeResults(file: string, markdown: string): Promise<void> {
  const block = `${START}\n\n${markdown}\n\n${END}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${block}${current.slice(end + END.length)}`
      : `${current.trimEnd()}\n\n## Latest run\n\n${block}\n`;
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(next, { ...options, filepath: file }));
}
