import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcrypt';
import { createHashingPool } from '../../src/passwords/hashingPool';

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
