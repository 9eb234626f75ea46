import { exec } from 'node:child_process';
import { cp, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(exec);

/** One instruction of a Dockerfile, continuation lines joined. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** A build stage: `FROM image AS name` and what follows it. */
export interface Stage {
  readonly name: string;
  readonly image: string;
  readonly instructions: readonly Instruction[];
}

/** Splits a Dockerfile into stages (comments dropped, `\` continuations joined). */
export async function parseDockerfile(file: string): Promise<Stage[]> {
  const text = await readFile(file, 'utf8');
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: Array<{ name: string; image: string; instructions: Instruction[] }> = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ') };
    if (instruction.keyword === 'FROM') {
      const [, image = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ name: name ?? String(stages.length), image, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** What replaying a stage leaves behind, to inspect and to run its CMD. */
export interface ReplayedStage {
  readonly root: string;
  readonly workdir: string;
  readonly env: Record<string, string>;
  readonly user: string | undefined;
  readonly cmd: string[] | undefined;
}

export interface ReplayOptions {
  /** The build context (the repository). */
  readonly context: string;
  /** An empty folder; each stage gets its own root under it. */
  readonly into: string;
  /** Extra environment for RUN steps (an npm cache setting, for example). */
  readonly runEnv?: Record<string, string>;
  /**
   * Stands in for a RUN step, keyed `stage: command`, given the step's working directory: for a
   * step whose result already exists on this machine.
   */
  readonly substitutes?: Record<string, (cwd: string) => Promise<void>>;
}

function parseEnv(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
    env[match[1]!] = match[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

/**
 * Replays the file system steps of a Dockerfile without Docker: each stage's root is a folder,
 * WORKDIR/COPY/ENV/USER/CMD act on it and RUN runs in its working directory with the host's
 * Node.js. Base images contribute nothing, so this checks what the Dockerfile itself copies,
 * installs and builds.
 */
export async function replayDockerfile(
  stages: readonly Stage[],
  options: ReplayOptions,
): Promise<Map<string, ReplayedStage>> {
  const done = new Map<string, ReplayedStage>();
  for (const stage of stages) {
    const root = path.join(options.into, stage.name);
    let workdir = '/';
    let env: Record<string, string> = {};
    let user: string | undefined;
    let cmd: string[] | undefined;
    const inside = (target: string): string => path.join(root, path.posix.resolve(workdir, target));
    await mkdir(root, { recursive: true });
    for (const { keyword, args } of stage.instructions) {
      switch (keyword) {
        case 'WORKDIR':
          workdir = path.posix.resolve(workdir, args);
          await mkdir(inside('.'), { recursive: true });
          break;
        case 'ENV':
          env = { ...env, ...parseEnv(args) };
          break;
        case 'USER':
          user = args;
          break;
        case 'CMD':
          cmd = JSON.parse(args) as string[];
          break;
        case 'COPY': {
          const words = args.split(' ');
          const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
          const paths = words.filter((word) => !word.startsWith('--'));
          const destination = paths.pop()!;
          const sourceRoot = from ? done.get(from)?.root : options.context;
          if (!sourceRoot) throw new Error(`COPY --from=${from}: no such stage before this one`);
          for (const source of paths) {
            const target = destination.endsWith('/')
              ? path.join(inside(destination), path.basename(source))
              : inside(destination);
            await cp(path.join(sourceRoot, source), target, { recursive: true });
          }
          break;
        }
        case 'RUN': {
          const substitute = options.substitutes?.[`${stage.name}: ${args}`];
          if (substitute) {
            await substitute(inside('.'));
            break;
          }
          await run(args, {
            cwd: inside('.'),
            env: { ...process.env, ...env, ...options.runEnv },
            maxBuffer: 16 * 1024 * 1024,
          }).catch((error: Error & { stdout?: string; stderr?: string }) => {
            // tsc and npm scripts report on stdout, npm itself on stderr: keep both.
            const output = [error.stdout, error.stderr].filter(Boolean).join('\n').trim();
            throw new Error(
              `RUN ${args} failed in stage ${stage.name}: ${output || error.message}`,
            );
          });
          break;
        }
        default:
          // EXPOSE, HEALTHCHECK, ARG, LABEL: nothing to do on a file system.
          break;
      }
    }
    done.set(stage.name, { root, workdir: inside('.'), env, user, cmd });
  }
  return done;
}
