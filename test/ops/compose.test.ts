import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');

interface Service {
  image?: string;
  build?: unknown;
  depends_on?: Record<string, { condition?: string }>;
  env_file?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[] };
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/**
 * The Compose Specification's JSON schema (draft-07), as shipped in the dclint package. Its
 * `$schema` names the draft by an https URL Ajv does not know, hence no meta-validation.
 */
async function composeSpecValidator(): Promise<ValidateFunction> {
  const packageDir = path.dirname(require.resolve('dclint/package.json'));
  const schema = JSON.parse(
    await readFile(path.join(packageDir, 'schemas/compose.schema.json'), 'utf8'),
  ) as object;
  return new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(schema);
}

describe('docker-compose.yml', () => {
  let compose: ComposeFile;
  let validate: ValidateFunction;

  beforeAll(async () => {
    compose = parse(await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as ComposeFile;
    validate = await composeSpecValidator();
  });

  it('is valid against the Compose Specification schema', () => {
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is checked by a schema that does reject mistakes', () => {
    const broken = structuredClone(compose);
    broken.services.api!.depends_on = { mongo: { condition: 'service_happy' } };
    expect(validate(broken)).toBe(false);
  });

  it('runs MongoDB 8 on a named volume with a mongosh ping healthcheck', () => {
    const mongo = compose.services.mongo!;
    expect(mongo.image).toBe('mongo:8');
    const [volume] = mongo.volumes ?? [];
    const volumeName = volume?.split(':')[0] ?? '';
    expect(volume).toMatch(/:\/data\/db$/);
    expect(compose.volumes).toHaveProperty(volumeName);
    expect(mongo.healthcheck?.test?.join(' ')).toMatch(/mongosh.*ping/);
  });

  it('builds the API from the Dockerfile and starts it once MongoDB is healthy', () => {
    const api = compose.services.api!;
    expect(api.build).toBe('.');
    expect(api.depends_on?.mongo?.condition).toBe('service_healthy');
    expect(api.env_file).toBe('.env');
    expect(api.environment).toMatchObject({
      NODE_ENV: 'production',
      MONGODB_URI: expect.stringMatching(/^mongodb:\/\/mongo:27017\//) as unknown,
    });
    expect(api.ports).toEqual([expect.stringMatching(/:4000:4000$|^4000:4000$/)]);
  });

  it('trusts exactly the one proxy in front, never any X-Forwarded-For', () => {
    const trust = compose.services.api!.environment?.TRUST_PROXY ?? '';
    // A hop count (or a CIDR list) a user may override in .env; never `true`.
    expect(trust).toBe('${TRUST_PROXY:-1}');
    const effective = trust.replace(/^\$\{TRUST_PROXY:-(.*)\}$/, '$1');
    expect(
      loadConfig({
        NODE_ENV: 'production',
        MONGODB_URI: 'mongodb://mongo:27017/app',
        JWT_SECRET: 'k9'.repeat(24),
        SMTP_URL: 'smtp://mailpit:1025',
        TRUST_PROXY: effective,
      }).trustProxy,
    ).toBe(1);
  });

  it("runs Mailpit as the API's SMTP server, its web inbox on loopback port 8025", () => {
    const mailpit = compose.services.mailpit!;
    expect(mailpit.image).toMatch(/^axllent\/mailpit(:|$)/);
    expect(mailpit.ports).toEqual(['127.0.0.1:8025:8025']);
    const api = compose.services.api!;
    expect(api.environment?.SMTP_URL).toBe('smtp://mailpit:1025');
    expect(api.depends_on).toHaveProperty('mailpit');
  });

  it('passes dclint', async () => {
    const dclint = path.join(ROOT, 'node_modules/.bin/dclint');
    await expect(
      promisify(execFile)(dclint, ['docker-compose.yml'], { cwd: ROOT }),
    ).resolves.toBeDefined();
  });
});
