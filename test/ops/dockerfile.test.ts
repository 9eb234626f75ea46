import { access, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { databaseUri, killApiProcesses, startApiProcess } from '../helpers/apiProcess';
import {
  parseDockerfile,
  replayDockerfile,
  type ReplayedStage,
  type Stage,
} from '../helpers/dockerfile';
import { registerUser } from '../helpers/operations';
import { TEST_JWT_SECRET, uniqueDbName } from '../helpers/testServer';

const ROOT = path.resolve(__dirname, '../..');

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

describe('the Dockerfile', () => {
  let stages: Stage[];

  beforeAll(async () => {
    stages = await parseDockerfile(path.join(ROOT, 'Dockerfile'));
  });

  it('builds on Node 24 LTS in stages and runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toBe('node:24-bookworm-slim');
    const runtime = stages.at(-1)!;
    const user = runtime.instructions.filter((step) => step.keyword === 'USER').at(-1);
    expect(user?.args).toMatch(/^(node|\d{3,})$/);
    const runs = stages.flatMap((stage) =>
      stage.instructions.filter((step) => step.keyword === 'RUN').map((step) => step.args),
    );
    expect(runs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^npm ci\b(?!.*--omit=dev)/),
        'npm run build',
        expect.stringMatching(/^npm ci --omit=dev\b/),
      ]),
    );
    expect(runtime.instructions.some((step) => step.keyword === 'RUN')).toBe(false);
  });

  describe('replayed without Docker', () => {
    let workspace: string;
    let runtime: ReplayedStage;

    beforeAll(async () => {
      workspace = await mkdtemp(path.join(os.tmpdir(), 'gja-docker-'));
      const replayed = await replayDockerfile(stages, {
        context: ROOT,
        into: workspace,
        // Same lockfile, same packages: take them from the local npm cache.
        runEnv: { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
        // The build stage's full install is the one this checkout was set up with (`npm ci`
        // from the same lockfile); linking it saves half a minute. DOCKER_REPLAY_FULL=1 repeats it.
        substitutes:
          process.env.DOCKER_REPLAY_FULL === '1'
            ? {}
            : {
                'build: npm ci --no-audit --no-fund': (cwd) =>
                  symlink(path.join(ROOT, 'node_modules'), path.join(cwd, 'node_modules'), 'dir'),
              },
      });
      runtime = replayed.get(stages.at(-1)!.name)!;
    }, 180_000);

    afterAll(async () => {
      await killApiProcesses();
      await rm(workspace, { recursive: true, force: true });
    });

    it('leaves dist/ and schema/ with production dependencies only', async () => {
      expect(await exists(path.join(runtime.workdir, 'dist/bin/server.js'))).toBe(true);
      expect(await exists(path.join(runtime.workdir, 'schema'))).toBe(true);
      expect(await exists(path.join(runtime.workdir, 'node_modules/fastify'))).toBe(true);
      expect(await exists(path.join(runtime.workdir, 'node_modules/typescript'))).toBe(false);
      expect(await exists(path.join(runtime.workdir, 'node_modules/jest'))).toBe(false);
      // Development-only: the embedded database (the image runs with MONGODB_URI) and readable logs.
      expect(
        await exists(path.join(runtime.workdir, 'node_modules/mongodb-memory-server-core')),
      ).toBe(false);
      expect(await exists(path.join(runtime.workdir, 'node_modules/pino-pretty'))).toBe(false);
      expect(await exists(path.join(runtime.workdir, 'src'))).toBe(false);
      expect(await exists(path.join(runtime.workdir, 'scripts'))).toBe(false);
    });

    it('starts with its CMD in production and serves /health and register', async () => {
      const [command, ...args] = runtime.cmd!;
      expect(command).toBe('node');
      const api = await startApiProcess({
        cwd: runtime.workdir,
        args,
        env: {
          ...runtime.env,
          NODE_ENV: 'production',
          SMTP_URL: 'smtp://127.0.0.1:9',
          JWT_SECRET: TEST_JWT_SECRET,
          BCRYPT_COST: '10',
          MONGODB_URI: databaseUri(uniqueDbName()),
          PORT: '0',
          HOST: '127.0.0.1',
        },
      });
      expect((await fetch(`${api.url}/health`)).status).toBe(200);
      expect((await fetch(`${api.url}/ready`)).status).toBe(200);
      const user = await registerUser(api);
      expect(user.user.roles).toEqual(['USER']);
      expect(await api.stop('SIGTERM')).toBe(0);
    }, 60_000);
  });
});
