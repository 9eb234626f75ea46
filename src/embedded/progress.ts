/**
 * Says `label: N s elapsed…` every `intervalMs` until the returned function is called, so a long
 * step with nothing else to show (a first FerretDB build) does not look like a hang.
 */
export function reportProgress(
  label: string,
  log: (message: string) => void,
  intervalMs = 5000,
): () => void {
  const startedAt = Date.now();
  const timer = setInterval(() => {
    log(`${label}: ${Math.round((Date.now() - startedAt) / 1000)} s elapsed…`);
  }, intervalMs);
  // The step itself keeps the process alive; the reporter alone must not.
  timer.unref();
  return () => clearInterval(timer);
}
