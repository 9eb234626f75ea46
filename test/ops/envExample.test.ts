import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, loadDbServerConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');

/** The variables of the configuration contract (docs/configuration.md). */
const CONTRACT_VARIABLES = [
  'PORT',
  'MONGODB_URI',
  'JWT_SECRET',
  'JWT_ALGORITHM',
  'JWT_PRIVATE_KEY',
  'JWT_PUBLIC_KEYS',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'ACCESS_TOKEN_TTL',
  'REFRESH_TOKEN_TTL',
  'SESSION_MAX_AGE',
  'BCRYPT_COST',
  'NODE_ENV',
];

interface EnvExample {
  /** Lines that are set: `NAME=value`. */
  active: Record<string, string>;
  /** Lines that document a default: `# NAME=value`. */
  documented: Record<string, string>;
}

async function readEnvExample(): Promise<EnvExample> {
  const text = await readFile(path.join(ROOT, '.env.example'), 'utf8');
  const example: EnvExample = { active: {}, documented: {} };
  for (const line of text.split('\n')) {
    const match = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) (match[1] ? example.documented : example.active)[match[2]!] = match[3]!;
  }
  return example;
}

/** Every variable the modules of src/config/ read. */
async function configVariables(): Promise<string[]> {
  const dir = path.join(ROOT, 'src/config');
  const files = (await readdir(dir)).filter((file) => file.endsWith('.ts'));
  const sources = await Promise.all(files.map((file) => readFile(path.join(dir, file), 'utf8')));
  const source = sources.join('\n');
  const names = [
    ...source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g),
    ...source.matchAll(/\(\s*env,\s*'([A-Z][A-Z0-9_]*)'/g),
  ].map((match) => match[1]!);
  return [...new Set(names)];
}

describe('.env.example', () => {
  let example: EnvExample;

  beforeAll(async () => {
    example = await readEnvExample();
  });

  it('lists every variable of the design and of src/config/', async () => {
    const listed = new Set([...Object.keys(example.active), ...Object.keys(example.documented)]);
    const variables = [...CONTRACT_VARIABLES, ...(await configVariables())];
    expect(variables.length).toBeGreaterThan(CONTRACT_VARIABLES.length);
    expect(variables.filter((name) => !listed.has(name))).toEqual([]);
  });

  it('holds no usable secret: production refuses its JWT_SECRET', () => {
    expect(example.active.JWT_SECRET).toBeDefined();
    expect(() =>
      loadConfig({
        ...example.active,
        NODE_ENV: 'production',
        MONGODB_URI: 'mongodb://mongo:27017/app',
      }),
    ).toThrow(/JWT_SECRET/);
  });

  it('documents the real defaults', () => {
    // MONGODB_URI has no default; its line is an example.
    const defaults = Object.fromEntries(
      Object.entries(example.documented).filter(
        ([name, value]) => value !== '' && name !== 'MONGODB_URI',
      ),
    );
    const secret = { JWT_SECRET: 'x'.repeat(40) };
    expect(loadConfig({ ...defaults, ...secret })).toEqual(loadConfig(secret));
    expect(loadDbServerConfig(defaults)).toEqual(loadDbServerConfig({}));
  });
});

describe('docs/configuration.md', () => {
  /** The variable names in the first column of the documentation's tables. */
  async function documentedVariables(): Promise<string[]> {
    const text = await readFile(path.join(ROOT, 'docs/configuration.md'), 'utf8');
    const firstCells = [...text.matchAll(/^\|([^|]*)\|/gm)].map((match) => match[1]!);
    return firstCells.flatMap((cell) =>
      [...cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]!),
    );
  }

  it('documents exactly the variables src/config/ reads', async () => {
    const documented = new Set(await documentedVariables());
    const read = new Set(await configVariables());
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !read.has(name))).toEqual([]);
  });
});
