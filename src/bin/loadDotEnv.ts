/**
 * Reads `.env` from the working directory into `process.env`, if there is one, before an entry
 * point loads its config; a variable already set in the environment wins over the file. Says in
 * one line on stderr which variables the file set.
 */
export function loadDotEnv(file = '.env'): void {
  const before = new Set(Object.keys(process.env));
  try {
    // Never overrides a variable that is already set (Node 20.12+ and 24 alike).
    process.loadEnvFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const added = Object.keys(process.env)
    .filter((key) => !before.has(key))
    .sort();
  process.stderr.write(
    `read ${file}: ${added.length > 0 ? `set ${added.join(', ')}` : 'every variable in it was already set'}\n`,
  );
}
