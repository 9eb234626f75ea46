import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { getVariableValues, OperationTypeNode, type GraphQLFormattedError } from 'graphql';
import type { GraphQLContext } from '../context';
import { authorizeOperation } from '../directives/preExecution';

/** The server's error formatter, so refusals read exactly like errors from execution. */
export type FormatError = (
  formatted: GraphQLFormattedError,
  error: unknown,
) => GraphQLFormattedError;

/**
 * Decides every request-only guard of the operation once it is resolved and validated, before any
 * resolver runs (docs/authorization.md, "Decided before execution"). A mutation or subscription
 * with any denied field runs nothing: the answer is `data: null` and the errors, with HTTP 200 like
 * every other guard refusal. A query executes, and its denied fields resolve to null with their errors.
 */
export function authorizeBeforeExecutionPlugin(
  formatError: FormatError,
): ApolloServerPlugin<GraphQLContext> {
  return {
    requestDidStart(): Promise<GraphQLRequestListener<GraphQLContext>> {
      let refusal: GraphQLFormattedError[] | null = null;
      return Promise.resolve({
        didResolveOperation({ schema, document, operation, request, contextValue }) {
          // Apollo reports a document without a matching operation before this hook.
          if (!operation) return Promise.resolve();
          // Variables that do not fit the operation are the client's error to hear first (400
          // BAD_USER_INPUT from execution); the check decides on the coerced values.
          const variables = getVariableValues(
            schema,
            operation.variableDefinitions ?? [],
            request.variables ?? {},
          );
          if (variables.errors) return Promise.resolve();
          const denied = authorizeOperation({
            schema,
            document,
            operation,
            variables: variables.coerced,
            context: contextValue,
          });
          // Mutation fields run one after another and each may change data; subscriptions
          // commit to a stream. Either is all or nothing; a query can answer in part.
          if (denied.length > 0 && operation.operation !== OperationTypeNode.QUERY) {
            refusal = denied.map((error) => formatError(error.toJSON(), error));
          }
          return Promise.resolve();
        },
        responseForOperation() {
          if (!refusal) return Promise.resolve(null);
          return Promise.resolve({
            http: { status: undefined, headers: new HeaderMap() },
            // Nothing ran, so there is no data: null, as when a non-null root field is refused.
            body: { kind: 'single', singleResult: { data: null, errors: refusal } },
          });
        },
      });
    },
  };
}
