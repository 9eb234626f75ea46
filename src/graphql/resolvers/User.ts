import type { UserResolvers } from '../../generated/graphql';

// Explicit fields: a user document also holds the password hash, which must never be resolvable.
export const User: UserResolvers = {
  id: (user) => user.id,
  email: (user) => user.email,
  name: (user) => user.name ?? null,
  roles: (user) => user.roles,
  createdAt: (user) => user.createdAt,
};
