import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { IResolvers } from '@graphql-tools/utils';
import { authDirectiveTransformer } from './directives/auth';
import { assertRootFieldsGuarded } from './directives/guardCheck';
import { resolvers as apiResolvers } from './resolvers';

/** The folder holding the SDL, next to `src/` and `dist/`. */
export const SCHEMA_DIR = path.resolve(__dirname, '../../schema');

/** Reads every `*.graphql` file of a folder, in name order. */
export function loadTypeDefs(dir: string = SCHEMA_DIR): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => readFileSync(path.join(dir, file), 'utf8'));
}

export interface SchemaParts {
  readonly typeDefs: string | readonly string[];
  readonly resolvers: IResolvers | readonly IResolvers[];
}

/**
 * Builds an executable schema with `@auth` applied last, then refuses it if any root field is
 * neither guarded nor public.
 */
export function buildGuardedSchema({ typeDefs, resolvers }: SchemaParts): GraphQLSchema {
  const schema = authDirectiveTransformer(
    makeExecutableSchema({ typeDefs: [typeDefs].flat(), resolvers: [resolvers].flat() }),
  );
  assertRootFieldsGuarded(schema);
  return schema;
}

/** The API's schema: SDL from `schema/`, resolvers from `src/graphql/resolvers/`. */
export function buildSchema(): GraphQLSchema {
  return buildGuardedSchema({ typeDefs: loadTypeDefs(), resolvers: apiResolvers });
}
