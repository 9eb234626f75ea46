import { ConfigError, type Env } from './readers';

/** Roles a user can hold; mirrors the `Role` enum of the schema (docs/authorization.md, "Roles"). */
export const ROLES = ['USER', 'ADMIN'] as const;
export type RoleName = (typeof ROLES)[number];

/** Which scopes each role grants; a role missing from the map grants none. */
export type RoleScopes = Readonly<Partial<Record<RoleName, readonly string[]>>>;

/** ROLE_SCOPES when unset: administrators may read and change every user (docs/authorization.md). */
export const DEFAULT_ROLE_SCOPES = 'ADMIN=users:*';

// A scope is `:`-separated segments of letters, digits, `_`, `.` or `-`; the last segment may be
// `*` (everything below), and `*` alone is every scope. Stricter than RFC 6749 §3.3's scope-token,
// so the hierarchy is unambiguous.
const SCOPE = /^(?:\*|[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)*(?::\*)?)$/;

/** True when `value` is a scope in the grammar of docs/authorization.md ("Scopes"). */
export function isScope(value: string): boolean {
  return SCOPE.test(value);
}

function isRole(value: string): value is RoleName {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Parses a role→scope map written as `ROLE=scope scope;ROLE=scope`, for example
 * `ADMIN=users:*;USER=notes:read notes:write`. Each role may appear once; every role and scope is
 * checked, so a typo stops the start instead of silently granting nothing.
 */
export function parseRoleScopes(variable: string, value: string): RoleScopes {
  const map: Partial<Record<RoleName, readonly string[]>> = {};
  for (const entry of value.split(';')) {
    if (entry.trim() === '') continue;
    const equals = entry.indexOf('=');
    if (equals < 0) {
      throw new ConfigError(
        variable,
        `must be ROLE=scope scope;ROLE=scope (entry "${entry.trim()}" has no "=")`,
      );
    }
    const role = entry.slice(0, equals).trim();
    if (!isRole(role)) {
      throw new ConfigError(
        variable,
        `names an unknown role "${role}" (roles: ${ROLES.join(', ')})`,
      );
    }
    if (map[role]) throw new ConfigError(variable, `lists the role ${role} twice`);
    const scopes = entry
      .slice(equals + 1)
      .split(/\s+/)
      .filter((scope) => scope !== '');
    const bad = scopes.filter((scope) => !isScope(scope));
    if (bad.length > 0) {
      throw new ConfigError(
        variable,
        `has invalid scopes for ${role}: ${bad.map((scope) => `"${scope}"`).join(', ')} (a scope is segments of letters, digits, _ . - joined by ":", optionally ending in ":*", or "*" alone)`,
      );
    }
    map[role] = [...new Set(scopes)];
  }
  return map;
}

export function readRoleScopes(env: Env): RoleScopes {
  const raw = env.ROLE_SCOPES?.trim();
  return parseRoleScopes(
    'ROLE_SCOPES',
    raw === undefined || raw === '' ? DEFAULT_ROLE_SCOPES : raw,
  );
}
