import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { IResolvers } from '@graphql-tools/utils';
import { apiAuthorizationRules } from './authorizationRules';
import { authDirectiveTransformer } from './directives/auth';
import { assertGuardsResolvable, assertRootFieldsGuarded } from './directives/guardCheck';
import type { AuthorizationRules } from './directives/policies';
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
  /**
   * The policies and owner rules the SDL's `@auth` may name, besides the API's own, which every
   * schema has because `schema/types.graphql` uses them (docs/authorization.md).
   */
  readonly authorization?: AuthorizationRules;
}

/**
 * Builds an executable schema with `@auth` applied last, then refuses it if any root field is
 * neither guarded nor public, or if a guard names an unknown policy, a malformed scope, or `self`
 * on a type without an owner.
 */
export function buildGuardedSchema({
  typeDefs,
  resolvers,
  authorization = {},
}: SchemaParts): GraphQLSchema {
  const schema = makeExecutableSchema({
    typeDefs: [typeDefs].flat(),
    resolvers: [resolvers].flat(),
  });
  const rules = mergeAuthorizationRules(apiAuthorizationRules, authorization);
  assertRootFieldsGuarded(schema);
  assertGuardsResolvable(schema, rules);
  return authDirectiveTransformer(schema, rules);
}

/** Merges the rules of several modules; a policy or owner declared twice is a start-up error. */
export function mergeAuthorizationRules(
  ...parts: readonly AuthorizationRules[]
): AuthorizationRules {
  const policies: Record<string, NonNullable<AuthorizationRules['policies']>[string]> = {};
  const owners: Record<string, string> = {};
  for (const part of parts) {
    for (const [name, policy] of Object.entries(part.policies ?? {})) {
      if (policies[name]) throw new Error(`The policy "${name}" is registered twice`);
      policies[name] = policy;
    }
    for (const [type, property] of Object.entries(part.owners ?? {})) {
      if (owners[type]) throw new Error(`The owner of ${type} is declared twice`);
      owners[type] = property;
    }
  }
  return { policies, owners };
}

/**
 * The API's schema: SDL from `schema/`, resolvers from `src/graphql/resolvers/`, rules from
 * `authorizationRules.ts`, plus any `modules` (tests load examples/notes this way; the server
 * itself adds none).
 */
export function buildSchema(...modules: readonly SchemaParts[]): GraphQLSchema {
  return buildGuardedSchema({
    typeDefs: [...loadTypeDefs(), ...modules.flatMap((module) => [module.typeDefs].flat())],
    resolvers: [apiResolvers, ...modules.flatMap((module) => [module.resolvers].flat())],
    authorization: mergeAuthorizationRules(...modules.map((module) => module.authorization ?? {})),
  });
}
