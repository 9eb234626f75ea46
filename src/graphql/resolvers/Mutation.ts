import { AuthenticationError } from '../../errors';
import { requireClaims } from '../context';
import type { MutationResolvers } from '../../generated/graphql';
import { refreshTokenTransport } from './refreshTokenTransport';

// Every mutation that signs someone in hands the refresh token over through the request's
// transport, and every one that ends the calling session clears it (docs/sessions.md, "Cookie
// mode").
export const Mutation: MutationResolvers = {
  register: async (_root, { input }, context) =>
    refreshTokenTransport(context).deliver(
      await context.services.auth.register(input, context.client),
    ),
  login: async (_root, { input }, context) =>
    refreshTokenTransport(context).deliver(
      await context.services.auth.login(input, context.client),
    ),
  refreshToken: async (_root, { refreshToken }, context) => {
    const transport = refreshTokenTransport(context);
    const token = transport.presented(refreshToken);
    if (token === null) throw new AuthenticationError('INVALID_REFRESH_TOKEN');
    return transport.deliver(await context.services.auth.refresh(token, context.client));
  },
  logout: async (_root, { refreshToken }, context) => {
    const transport = refreshTokenTransport(context);
    const token = transport.presented(refreshToken);
    // No token at all: nothing to end, which is what logout promises.
    if (token !== null) await context.services.auth.logout(token, context.client.request);
    transport.clear();
    return true;
  },
  logoutAll: async (_root, _args, context) => {
    const revoked = await context.services.sessions.revokeAll(
      requireClaims(context),
      context.client.request,
    );
    refreshTokenTransport(context).clear();
    return revoked;
  },
  revokeSession: async (_root, { id }, context) => {
    const caller = requireClaims(context);
    const revoked = await context.services.sessions.revoke(caller, id, context.client.request);
    if (revoked && id === caller.sid) refreshTokenTransport(context).clear();
    return revoked;
  },
  changePassword: async (_root, { currentPassword, newPassword }, context) =>
    refreshTokenTransport(context).deliver(
      await context.services.account.changePassword(
        requireClaims(context),
        { currentPassword, newPassword },
        context.client,
      ),
    ),
  deleteAccount: async (_root, { password }, context) => {
    const deleted = await context.services.account.deleteAccount(
      requireClaims(context),
      password,
      context.client,
    );
    refreshTokenTransport(context).clear();
    return deleted;
  },
  setUserRoles: (_root, { userId, roles }, context) =>
    context.services.users.setRoles(requireClaims(context), userId, roles, context.client.request),
};
