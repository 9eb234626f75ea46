import {
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isCompositeType,
  isObjectType,
  isUnionType,
  Kind,
  locatedError,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLCompositeType,
  type GraphQLError,
  type GraphQLObjectType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { GraphQLContext } from '../context';
import { requestDecision } from './guards';

export interface OperationToAuthorize {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly variables?: Readonly<Record<string, unknown>> | undefined;
  readonly context: GraphQLContext;
}

// @skip and @include decide whether a field runs at all; a value that cannot be read here (a bad
// variable) counts as "runs", and execution reports the variable itself.
function included(
  node: FieldNode | FragmentSpreadNode | InlineFragmentNode,
  variables: Readonly<Record<string, unknown>>,
): boolean {
  if (!node.directives || node.directives.length === 0) return true;
  try {
    if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
    return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
  } catch {
    return true;
  }
}

/**
 * Decides every request-only guard (signed in, roles, scopes, fresh) of every field an operation
 * selects, before any resolver runs (docs/authorization.md, "Decided before execution"). The
 * decisions are kept for the request, so resolvers refuse exactly these fields without deciding
 * again; the returned errors, located at their fields, are the denied ones. A field of an abstract
 * type counts as denied when any possible type would deny it. Policies wait for resolve time:
 * they need the parent object.
 */
export function authorizeOperation({
  schema,
  document,
  operation,
  variables = {},
  context,
}: OperationToAuthorize): GraphQLError[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const denied: GraphQLError[] = [];
  const reported = new Set<string>();

  const visitField = (
    node: FieldNode,
    parentType: GraphQLCompositeType,
    path: readonly string[],
  ): void => {
    const name = node.name.value;
    if (name.startsWith('__')) return;
    const responsePath = [...path, node.alias?.value ?? name];
    const possibleTypes: readonly GraphQLObjectType[] = isObjectType(parentType)
      ? [parentType]
      : schema.getPossibleTypes(parentType);
    for (const type of possibleTypes) {
      const guard = type.getFields()[name]?.extensions.authGuard;
      const refused = guard ? requestDecision(context, guard) : null;
      const key = responsePath.join('.');
      if (refused && !reported.has(key)) {
        reported.add(key);
        denied.push(locatedError(refused, [node], responsePath));
      }
    }
    // A union has no fields of its own but __typename; its members are reached through fragments.
    const field = isUnionType(parentType) ? undefined : parentType.getFields()[name];
    const fieldType = field ? getNamedType(field.type) : undefined;
    if (node.selectionSet && fieldType && isCompositeType(fieldType)) {
      visitSelections(node.selectionSet, fieldType, responsePath);
    }
  };

  const visitSelections = (
    selectionSet: SelectionSetNode,
    parentType: GraphQLCompositeType,
    path: readonly string[],
  ): void => {
    for (const selection of selectionSet.selections) {
      if (!included(selection, variables)) continue;
      if (selection.kind === Kind.FIELD) {
        visitField(selection, parentType, path);
        continue;
      }
      const fragment =
        selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
      if (!fragment) continue;
      const conditionType = fragment.typeCondition
        ? schema.getType(fragment.typeCondition.name.value)
        : parentType;
      if (conditionType && isCompositeType(conditionType)) {
        visitSelections(fragment.selectionSet, conditionType, path);
      }
    }
  };

  const rootType = schema.getRootType(operation.operation);
  if (rootType) visitSelections(operation.selectionSet, rootType, []);
  return denied;
}
