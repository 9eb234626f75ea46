import { defaultFieldResolver, type GraphQLFieldConfig, type GraphQLSchema } from 'graphql';
import { getDirective, MapperKind, mapSchema } from '@graphql-tools/utils';
import { requireClaims, type GraphQLContext } from '../context';
import { ForbiddenError } from '../../errors';
import type { RoleName } from '../../db/models/User';

/** The arguments of one `@auth` occurrence. */
export interface AuthRequirement {
  readonly requires?: readonly RoleName[] | null;
  readonly fresh?: boolean | null;
}

/** Throws unless the request satisfies one `@auth` requirement. */
export function assertAllowed(context: GraphQLContext, requirement: AuthRequirement): void {
  const claims = requireClaims(context);
  const required = requirement.requires ?? [];
  if (required.length > 0 && !required.some((role) => claims.roles.includes(role))) {
    throw new ForbiddenError('MISSING_ROLE');
  }
  if (requirement.fresh && !claims.fresh) throw new ForbiddenError('FRESH_TOKEN_REQUIRED');
}

/**
 * Applies `@auth` to a schema: every field carrying it, or belonging to an object type carrying
 * it, checks the request before its resolver runs. Type-level and field-level guards both apply.
 * Apply it last: fields added afterwards would not be guarded.
 */
export function authDirectiveTransformer(
  schema: GraphQLSchema,
  directiveName = 'auth',
): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (
      fieldConfig: GraphQLFieldConfig<unknown, GraphQLContext>,
      _fieldName: string,
      typeName: string,
    ) => {
      const type = schema.getType(typeName);
      const requirements = [
        ...(type ? (getDirective(schema, type, directiveName) ?? []) : []),
        ...(getDirective(schema, fieldConfig, directiveName) ?? []),
      ] as AuthRequirement[];
      if (requirements.length === 0) return fieldConfig;

      const resolve = fieldConfig.resolve ?? defaultFieldResolver;
      const guarded: GraphQLFieldConfig<unknown, GraphQLContext> = {
        ...fieldConfig,
        resolve(source, args, context, info) {
          for (const requirement of requirements) assertAllowed(context, requirement);
          return resolve(source, args, context, info);
        },
      };
      return guarded;
    },
  });
}
