import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContext } from '../context';

/** Names the GraphQL operation of the request in its log line (never its variables). */
export function operationNamePlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ operationName, contextValue }) {
          const scope = contextValue.client.request;
          if (scope && operationName) scope.operation = operationName;
          return Promise.resolve();
        },
      });
    },
  };
}
