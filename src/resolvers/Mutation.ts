import type { MutationResolvers } from '../generated/graphql';

export const Mutation: MutationResolvers = {
  register: (_root, { input }, context) => context.services.auth.register(input, context.client),
  login: (_root, { input }, context) => context.services.auth.login(input, context.client),
  refreshToken: (_root, { refreshToken }, context) =>
    context.services.auth.refresh(refreshToken, context.client),
  logout: (_root, { refreshToken }, context) => context.services.auth.logout(refreshToken),
  setUserRoles: (_root, { userId, roles }, context) =>
    context.services.users.setRoles(userId, roles),
};
