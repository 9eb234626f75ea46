import type { GraphQLObjectType, GraphQLSchema } from 'graphql';
import { getDirective } from '@graphql-tools/utils';

/** Thrown at start-up when a root field is neither guarded nor explicitly public. */
export class UnguardedFieldsError extends Error {
  constructor(readonly fields: readonly string[]) {
    super(
      `Every root field needs exactly one of @auth or @public (secure by default). Offending fields: ${fields.join(', ')}`,
    );
    this.name = 'UnguardedFieldsError';
  }
}

/**
 * Fails closed: every Query, Mutation and Subscription field must carry `@auth` (on the field or
 * its root type) or `@public`, and never both.
 */
export function assertRootFieldsGuarded(schema: GraphQLSchema): void {
  const roots = [
    schema.getQueryType(),
    schema.getMutationType(),
    schema.getSubscriptionType(),
  ].filter((type): type is GraphQLObjectType => Boolean(type));
  const offenders: string[] = [];
  for (const root of roots) {
    const rootGuarded = (getDirective(schema, root, 'auth') ?? []).length > 0;
    for (const field of Object.values(root.getFields())) {
      const guarded = rootGuarded || (getDirective(schema, field, 'auth') ?? []).length > 0;
      const open = (getDirective(schema, field, 'public') ?? []).length > 0;
      if (guarded === open) offenders.push(`${root.name}.${field.name}`);
    }
  }
  if (offenders.length > 0) throw new UnguardedFieldsError(offenders);
}
