import { killApiProcesses, databaseUri, startApiProcess } from '../helpers/apiProcess';
import { uniqueDbName } from '../helpers/testServer';

afterAll(async () => {
  await killApiProcesses();
});

/** Sends `count` small requests, a few at a time, and ignores how they end. */
async function sendRequests(url: string, count: number): Promise<void> {
  const one = (): Promise<void> =>
    fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    })
      .then((response) => response.text())
      .then(
        () => undefined,
        () => undefined,
      );
  for (let sent = 0; sent < count; sent += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - sent) }, one));
  }
}

describe('a log collector that stops reading', () => {
  it('still lets SIGTERM end the process within the shutdown deadline', async () => {
    const api = await startApiProcess({
      env: {
        LOG_FORMAT: 'json',
        MONGODB_URI: databaseUri(uniqueDbName()),
        SHUTDOWN_TIMEOUT: '2s',
        LOG_LEVEL: 'info',
      },
    });
    // Nobody drains the pipe from here on: it fills after about 64 KiB.
    api.child.stdout?.removeAllListeners('data');
    api.child.stdout?.pause();
    await sendRequests(api.url, 1200);
    const health = await fetch(`${api.url}/health`);
    expect(health.status).toBe(200);

    const signalled = Date.now();
    const exited = api.stop('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<'still running'>((resolve) => {
        timer = setTimeout(() => resolve('still running'), 8000);
      }),
    ]);
    clearTimeout(timer);
    // The unread pipe would otherwise stay open in this worker after the process is gone.
    api.child.stdout?.destroy();
    expect(code).not.toBe('still running');
    expect(Date.now() - signalled).toBeLessThan(6000);
    // It had to cut: the log could not be written.
    expect([0, 1]).toContain(code);
  }, 60_000);
});
