import { sharedHashingPool } from '../../src/passwords/hashingPool';

// bcrypt runs synchronously inside the pool's worker threads, and a thread in the middle of a hash
// cannot be stopped until the hash returns. When a Jest worker process is told to exit while one of
// its threads still hashes (a test that ended with logins in flight, or a background reset), its
// exit waits for that hash, and Jest reports "a worker process has failed to exit gracefully".
// So every test file ends by waiting for the hashes it started.
afterAll(async () => {
  const pool = sharedHashingPool();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { waiting, running } = pool.load();
    if (waiting === 0 && running === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});
