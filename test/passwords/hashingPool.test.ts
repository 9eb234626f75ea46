import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcrypt';
import { RateLimitedError } from '../../src/errors';
import { createHashingPool, hashingOwnerOf } from '../../src/passwords/hashingPool';

const execFileAsync = promisify(execFile);

/** Nice values of this process's threads, from /proc (Linux). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // The 19th field; fields are counted after the parenthesised command name.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

/** Nice value of the main thread (its thread id is the process id). */
function mainThreadNice(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('createHashingPool', () => {
  it('hashes in the standard bcrypt format and compares both ways', async () => {
    const pool = createHashingPool({ size: 1 });
    const hash = await pool.hash('correct horse battery staple', 4);
    expect(hash).toMatch(/^\$2b\$04\$/);
    expect(await bcrypt.compare('correct horse battery staple', hash)).toBe(true);
    expect(await pool.compare('correct horse battery staple', hash)).toBe(true);
    expect(await pool.compare('wrong horse battery staple', hash)).toBe(false);
  });

  it('reports a failed job as a rejection and keeps working', async () => {
    const pool = createHashingPool({ size: 1 });
    await expect(pool.hash('password', 99)).rejects.toThrow(/salt/i);
    await expect(pool.hash('password', 4)).resolves.toMatch(/^\$2b\$04\$/);
  });

  it('answers every one of many concurrent jobs with its own result', async () => {
    const pool = createHashingPool({ size: 2 });
    const passwords = Array.from({ length: 6 }, (_, i) => `password number ${i}`);
    const hashes = await Promise.all(passwords.map((password) => pool.hash(password, 4)));
    const matches = await Promise.all(
      passwords.map((password, i) => pool.compare(password, hashes[(i + 1) % hashes.length] ?? '')),
    );
    expect(matches).toEqual(passwords.map(() => false));
    const own = await Promise.all(
      passwords.map((password, i) => pool.compare(password, hashes[i] ?? '')),
    );
    expect(own).toEqual(passwords.map(() => true));
  });

  (process.platform === 'linux' ? it : it.skip)(
    'hashes at a lower CPU priority than the event loop',
    async () => {
      const before = threadNiceValues();
      const mainBefore = mainThreadNice();
      const pool = createHashingPool({ size: 1, nice: 7 });
      await pool.hash('password', 4);
      expect(before).not.toContain(7);
      expect(threadNiceValues()).toContain(7);
      // The event loop's thread keeps whatever priority the process was started with.
      expect(mainThreadNice()).toBe(mainBefore);
    },
  );

  it('does not keep a process alive once its jobs are done', async () => {
    const poolModule = path.resolve(__dirname, '../../src/passwords/hashingPool.ts');
    const { stdout } = await execFileAsync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { createHashingPool } = require(${JSON.stringify(poolModule)});
         createHashingPool({ size: 1 }).hash('password', 4).then((hash) => console.log(hash.slice(0, 7)));`,
      ],
      { timeout: 20_000 },
    );
    expect(stdout.trim()).toBe('$2b$04$');
  });
});

describe('fair shares under load', () => {
  it('refuses jobs past one address’s share at once, with a time to come back', async () => {
    const pool = createHashingPool({ size: 1, perClientLimit: 3 });
    const flood = Array.from({ length: 10 }, () =>
      pool.hash('flood password', 4, '192.0.2.1').then(
        () => 'hashed',
        (error: unknown) => error,
      ),
    );
    const outcomes = await Promise.all(flood);
    expect(outcomes.filter((outcome) => outcome === 'hashed')).toHaveLength(3);
    const refused = outcomes.filter((outcome) => outcome instanceof RateLimitedError);
    expect(refused).toHaveLength(7);
    expect((refused[0] as RateLimitedError).retryAfter).toBeGreaterThanOrEqual(1);
    // The share is free again once the jobs are done.
    await expect(pool.hash('later', 4, '192.0.2.1')).resolves.toMatch(/^\$2b/);
  });

  it('serves a second address next, not after the first address’s whole queue', async () => {
    const pool = createHashingPool({ size: 1, perClientLimit: 8 });
    const order: string[] = [];
    const flood = Array.from({ length: 8 }, (_, i) =>
      pool.hash(`flood ${i}`, 8, '192.0.2.1').then(() => order.push('flood')),
    );
    const other = pool.hash('other', 8, '198.51.100.7').then(() => order.push('other'));
    await Promise.all([...flood, other]);
    // One job runs when the other address arrives; the other address's job goes next.
    expect(order.indexOf('other')).toBeLessThanOrEqual(1);
  });

  it('admits at most one address’s share of calls at once, before they do any work', async () => {
    const pool = createHashingPool({ size: 1, perClientLimit: 2 });
    let started = 0;
    const release: Array<() => void> = [];
    const call = () =>
      pool
        .admit(async () => {
          started += 1;
          await new Promise<void>((resolve) => release.push(resolve));
          return 'done';
        }, '192.0.2.1')
        .catch((error: unknown) => (error instanceof RateLimitedError ? 'refused' : error));
    const first = [call(), call()];
    await expect(call()).resolves.toBe('refused');
    expect(started).toBe(2);
    // Another address has a share of its own.
    const other = pool.admit(() => Promise.resolve('other'), '198.51.100.7');
    await expect(other).resolves.toBe('other');
    release.forEach((resolve) => resolve());
    await expect(Promise.all(first)).resolves.toEqual(['done', 'done']);
    // The share is free again once the calls are done.
    await expect(pool.admit(() => Promise.resolve('again'), '192.0.2.1')).resolves.toBe('again');
  });

  it('reports waiting and running jobs, and tells observers of starts and refusals', async () => {
    const pool = createHashingPool({ size: 1, perClientLimit: 2 });
    const waits: number[] = [];
    const refusals: string[] = [];
    const stop = pool.observe({
      started: (waitMs) => waits.push(waitMs),
      refused: (reason) => refusals.push(reason),
    });
    const jobs = Array.from({ length: 3 }, () =>
      pool.hash('x', 8, '192.0.2.1').catch(() => 'refused'),
    );
    expect(pool.load()).toEqual({ waiting: 1, running: 1 });
    await Promise.all(jobs);
    expect(pool.load()).toEqual({ waiting: 0, running: 0 });
    expect(waits).toHaveLength(2);
    expect(refusals).toEqual(['client_share']);
    stop();
    await pool.hash('x', 4);
    expect(waits).toHaveLength(2);
  });

  it('caps all request-serving jobs together', async () => {
    const pool = createHashingPool({ size: 1, perClientLimit: 4, globalLimit: 5 });
    const outcomes = await Promise.all(
      ['192.0.2.1', '192.0.2.2', '192.0.2.3'].flatMap((address) =>
        Array.from({ length: 3 }, () =>
          pool.hash('x', 4, address).then(
            () => 'hashed',
            (error: unknown) => (error instanceof RateLimitedError ? 'refused' : error),
          ),
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'hashed')).toHaveLength(5);
    expect(outcomes.filter((outcome) => outcome === 'refused')).toHaveLength(4);
  });

  it('never refuses work outside a request (start-up, the CLI)', async () => {
    const pool = createHashingPool({ size: 1, perClientLimit: 1, globalLimit: 1 });
    const hashes = await Promise.all(Array.from({ length: 4 }, () => pool.hash('x', 4)));
    expect(hashes).toHaveLength(4);
  });
});

describe('hashingOwnerOf', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('charges %s to %s', (address, owner) => {
    expect(hashingOwnerOf(address)).toBe(owner);
  });
});
