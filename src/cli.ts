import { ConfigError, loadConfig } from './config';
import { connectDatabase } from './db';
import { runningDevDatabaseUri, startDevDatabase } from './embedded/devDatabase';
import type { EmbeddedDb } from './embedded/startEmbeddedDb';
import { ROLES, type RoleName } from './models/User';
import { createUserService } from './services/users';

const USAGE = `Usage:
  npm run cli -- roles <email> <ROLE>...   set a user's roles (${ROLES.join(', ')})

The database is MONGODB_URI, else the running \`npm run dev\` database, else the development
database started just for this command.`;

function isRole(value: string): value is RoleName {
  return (ROLES as readonly string[]).includes(value);
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
  const config = loadConfig();
  let embedded: EmbeddedDb | undefined;
  let uri = config.mongodbUri ?? (await runningDevDatabaseUri());
  if (!uri) {
    embedded = await startDevDatabase(config.embeddedDb);
    uri = embedded.uri;
  }
  const database = await connectDatabase(uri);
  try {
    const user = await createUserService(database.models).setRolesByEmail(
      email,
      roles.filter(isRole),
    );
    if (!user) {
      process.stderr.write(`No user with email ${email}\n`);
      return 1;
    }
    process.stdout.write(`${user.email} now has roles: ${user.roles.join(', ')}\n`);
    return 0;
  } finally {
    await database.close();
    await embedded?.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'roles':
      return setRoles(args);
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
