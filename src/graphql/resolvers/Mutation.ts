import { requireClaims } from '../context';
import type { MutationResolvers } from '../../generated/graphql';

export const Mutation: MutationResolvers = {
  register: (_root, { input }, context) => context.services.auth.register(input, context.client),
  login: (_root, { input }, context) => context.services.auth.login(input, context.client),
  refreshToken: (_root, { refreshToken }, context) =>
    context.services.auth.refresh(refreshToken, context.client),
  logout: (_root, { refreshToken }, context) => context.services.auth.logout(refreshToken),
  logoutAll: (_root, _args, context) => context.services.sessions.revokeAll(requireClaims(context)),
  revokeSession: (_root, { id }, context) =>
    context.services.sessions.revoke(requireClaims(context), id),
  changePassword: (_root, { currentPassword, newPassword }, context) =>
    context.services.account.changePassword(
      requireClaims(context),
      { currentPassword, newPassword },
      context.client,
    ),
  deleteAccount: (_root, { password }, context) =>
    context.services.account.deleteAccount(requireClaims(context), password, context.client),
  setUserRoles: (_root, { userId, roles }, context) =>
    context.services.users.setRoles(requireClaims(context), userId, roles),
};
