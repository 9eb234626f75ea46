import type { RoleName, RoleScopes } from '../config';

/**
 * True when a granted scope covers a required one (docs/authorization.md, "Scopes"): the same
 * scope, `*`, or a `prefix:*` whose prefix the required scope continues, so `users:*` covers
 * `users:read` and `users:read:email` but not `users` itself.
 */
export function scopeCovers(granted: string, required: string): boolean {
  if (granted === required || granted === '*') return true;
  return granted.endsWith(':*') && required.startsWith(granted.slice(0, -1));
}

/** True when some granted scope covers `required`. */
export function hasScope(granted: readonly string[], required: string): boolean {
  return granted.some((scope) => scopeCovers(scope, required));
}

/**
 * Apollo Router's `@requiresScopes` semantics: passes when every scope of at least one inner list
 * is granted. An empty outer list asks for nothing.
 */
export function satisfiesScopeSets(
  granted: readonly string[],
  scopeSets: readonly (readonly string[])[],
): boolean {
  if (scopeSets.length === 0) return true;
  return scopeSets.some((set) => set.every((required) => hasScope(granted, required)));
}

/** The scopes a set of roles grants under the configured map, each once, in map order. */
export function scopesForRoles(map: RoleScopes, roles: readonly RoleName[]): string[] {
  return [...new Set(roles.flatMap((role) => map[role] ?? []))];
}

/** Splits an RFC 9068 §2.2.3 `scope` claim (space-separated, as in RFC 8693 §4.2). */
export function parseScopeClaim(scope: string): string[] {
  return scope.split(' ').filter((item) => item !== '');
}
