import { ConfigError, loadConfig, type Config } from '../config';
import { connectDatabase, type Database } from '../db/database';
import type { DevDatabase } from '../embedded/devDatabase';
import { ROLES, type RoleName } from '../db/models/User';
import { ASYMMETRIC_ALGORITHMS, generateSigningKeyPair } from '../config/keys';
import { createUserService } from '../accounts/users';
import { ForbiddenError } from '../errors';
import { silentAuditLog } from '../logging/audit';
import { createRefreshTokenStore } from '../sessions/refreshTokens';
import { migrateLegacyStorage } from '../sessions/legacyMigration';
import { loadDotEnv } from './loadDotEnv';

const USAGE = `Usage:
  npm run cli -- roles <email> <ROLE>...   set a user's roles (${ROLES.join(', ')})
  npm run cli -- migrate                   convert data stored by earlier versions (docs/data-model.md)
  npm run cli -- keygen --alg <ES256|RS256> [--bits <2048|3072|4096>]
                                           print a new signing key pair (PEM) for JWT_PRIVATE_KEY

roles and migrate use MONGODB_URI, else the running \`npm run dev\` database, else the development database
started just for this command. keygen needs no database.`;

const RSA_BITS = [2048, 3072, 4096];

/** Reads `--name value` or `--name=value`. */
function option(args: readonly string[], name: string): string | undefined {
  const index = args.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (index === -1) return undefined;
  const arg = args[index]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[index + 1];
}

/**
 * `keygen --alg ES256|RS256 [--bits N]`: prints the private key (PKCS#8) and then the public key
 * (SPKI) on stdout; the kid goes to stderr so the output can be saved as a file as it is.
 */
function keygen(args: string[]): number {
  const alg = option(args, '--alg')?.toUpperCase();
  const bits = Number(option(args, '--bits') ?? 3072);
  const algorithm = ASYMMETRIC_ALGORITHMS.find((known) => known === alg);
  if (!algorithm || !RSA_BITS.includes(bits)) {
    if (!algorithm) process.stderr.write(`--alg must be ${ASYMMETRIC_ALGORITHMS.join(' or ')}\n`);
    else process.stderr.write(`--bits must be ${RSA_BITS.join(', ')}\n`);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const pair = generateSigningKeyPair(algorithm, bits);
  process.stdout.write(`${pair.privateKeyPem}${pair.publicKeyPem}`);
  process.stderr.write(
    `Generated an ${algorithm} key pair, kid ${pair.kid}.\n` +
      'Keep the PRIVATE KEY block secret (JWT_PRIVATE_KEY); the PUBLIC KEY block may be shared ' +
      '(JWT_PUBLIC_KEYS on other instances during a rotation).\n',
  );
  return 0;
}

function isRole(value: string): value is RoleName {
  return (ROLES as readonly string[]).includes(value);
}

/** Runs `work` against the configured database (or the development one), then closes it. */
async function withDatabase(
  work: (database: Database, config: Config) => Promise<number>,
): Promise<number> {
  loadDotEnv();
  const config = loadConfig();
  let embedded: DevDatabase | undefined;
  let uri = config.mongodbUri;
  if (!uri) {
    // Loaded only here, as in the server: with MONGODB_URI nothing embedded is needed.
    const { openDevDatabase } = await import('../embedded/devDatabase.js');
    embedded = await openDevDatabase(config, { reuseRunning: true });
    uri = embedded.uri;
  }
  const database = await connectDatabase(uri);
  try {
    return await work(database, config);
  } finally {
    await database.close();
    await embedded?.stop();
  }
}

/** `roles <email> <ROLE>...`: how the first ADMIN is made. */
async function setRoles(args: string[]): Promise<number> {
  const [email, ...roleArgs] = args;
  const roles = roleArgs.map((role) => role.toUpperCase());
  const unknown = roles.filter((role) => !isRole(role));
  if (!email || roles.length === 0 || unknown.length > 0) {
    if (unknown.length > 0) process.stderr.write(`Unknown role(s): ${unknown.join(', ')}\n`);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  return withDatabase(async (database, config) => {
    const { models } = database;
    const users = createUserService({
      models,
      refreshTokens: createRefreshTokenStore({ config, models, audit: silentAuditLog }),
    });
    let user;
    try {
      user = await users.setRolesByEmail(email, roles.filter(isRole));
    } catch (error) {
      if (!(error instanceof ForbiddenError && error.reason === 'LAST_ADMIN')) throw error;
      process.stderr.write(`Refused: ${email} is the last ADMIN. ${error.message}\n`);
      return 1;
    }
    if (!user) {
      process.stderr.write(`No user with email ${email}\n`);
      return 1;
    }
    process.stdout.write(`${user.email} now has roles: ${user.roles.join(', ')}\n`);
    return 0;
  });
}

/** `migrate`: converts data of earlier versions; safe to run again (docs/data-model.md). */
function migrate(): Promise<number> {
  return withDatabase(async (database) => {
    const report = await migrateLegacyStorage(database.models);
    process.stdout.write(
      `Migrated: ${report.emails} email address(es), ${report.sessions} live session(s); ` +
        `removed ${report.legacyTokensRemoved} old refresh-token document(s).\n`,
    );
    if (report.emailConflicts.length > 0) {
      process.stderr.write(
        `Addresses held by more than one user, left as they were: ${report.emailConflicts.join(', ')}\n`,
      );
      return 1;
    }
    return 0;
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'roles':
      return setRoles(args);
    case 'keygen':
      return keygen(args);
    case 'migrate':
      return migrate();
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
