import { requireClaims } from '../context';
import type { QueryResolvers } from '../../generated/graphql';

export const Query: QueryResolvers = {
  me: (_root, _args, context) => context.services.users.current(requireClaims(context)),
  sessions: (_root, _args, context) => context.services.sessions.list(requireClaims(context)),
  users: (_root, { limit, offset }, context) =>
    context.services.users.list(requireClaims(context), limit, offset),
};
