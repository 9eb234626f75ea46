import type { ApolloServerPlugin } from '@apollo/server';
import { currentRequestScope } from '../../logging/requestScope';

/** Names the GraphQL operation of the request in its log line (never its variables). */
export function operationNamePlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ operationName }) {
          const scope = currentRequestScope();
          if (scope && operationName) scope.operation = operationName;
          return Promise.resolve();
        },
      });
    },
  };
}
