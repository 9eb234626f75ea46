import { requireClaims } from '../context';
import type { SecurityEventView } from '../../events/securityEvents';
import type { SubscriptionResolvers } from '../../generated/graphql';

export const Subscription: SubscriptionResolvers = {
  securityEvents: {
    // `@auth` wraps `resolve`, which runs per event; the stream itself is opened here, so this
    // refuses an anonymous or rejected caller itself, with the same error as HTTP.
    subscribe: (_root, _args, context) =>
      context.services.securityEvents.stream(requireClaims(context)),
    resolve: (event: SecurityEventView) => event,
  },
};
