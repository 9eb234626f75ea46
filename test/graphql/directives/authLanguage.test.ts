import { buildGuardedSchema, loadTypeDefs } from '../../../src/graphql/schema';
import { DateTime } from '../../../src/graphql/resolvers/DateTime';
import type { AuthorizationRules } from '../../../src/graphql/directives/policies';
import { startTestServer, type TestServer } from '../../helpers/testServer';
import { accessTokenClaims, forgeAccessToken } from '../../helpers/tokens';

// A schema of its own covering what @auth can say besides roles: scopes (hierarchy, wildcard, OR
// of AND-groups), policies (registered in code, with the parent), repeated occurrences and
// type + field + interface composition.
const testTypeDefs = /* GraphQL */ `
  type Query {
    read: String @auth(scopes: [["docs:read"]])
    readEmail: String @auth(scopes: [["docs:read:email"]])
    readOrAudit: String @auth(scopes: [["docs:read", "docs:write"], ["audit"]])
    twice: String @auth(requires: [ADMIN]) @auth(scopes: [["docs:read"]])
    freshScope: String @auth(scopes: [["docs:read"]], fresh: true)
    roleOnly: String @auth(requires: [USER])
    documents: [Document!] @public
    items: [Item!] @public
    gate(allow: Boolean!): String @auth(policies: ["argAllows"])
    slow: String @auth(policies: ["slowYes", "slowNo"])
  }

  type Document @auth(policies: ["self"]) {
    title: String
    body: String @auth(scopes: [["docs:read"]])
  }

  interface Item @auth(scopes: [["items:read"]]) {
    name: String
    secret: String @auth(requires: [ADMIN])
  }

  type Box implements Item @auth(fresh: true) {
    name: String
    secret: String @auth(scopes: [["items:secret"]])
  }
`;

const OWNER = '00000000000000000000000a';

const rules: AuthorizationRules = {
  owners: { Document: 'ownerId' },
  policies: {
    argAllows: ({ args }) => args.allow === true,
    slowYes: () => new Promise((resolve) => setTimeout(() => resolve(true), 5)),
    slowNo: () => new Promise((resolve) => setTimeout(() => resolve(false), 5)),
  },
};

const resolvers = {
  DateTime,
  Query: {
    read: () => 'read',
    readEmail: () => 'readEmail',
    readOrAudit: () => 'readOrAudit',
    twice: () => 'twice',
    freshScope: () => 'freshScope',
    roleOnly: () => 'roleOnly',
    documents: () => [{ ownerId: OWNER, title: 'title', body: 'body' }],
    items: () => [{ name: 'name', secret: 'secret' }],
    gate: () => 'gate',
    slow: () => 'slow',
  },
  Item: { __resolveType: () => 'Box' },
};

let api: TestServer;

beforeAll(async () => {
  const directives = loadTypeDefs().filter(
    (sdl) => sdl.includes('directive @auth') || sdl.includes('enum Role'),
  );
  const schema = buildGuardedSchema({
    typeDefs: [...directives, testTypeDefs],
    resolvers,
    authorization: rules,
  });
  api = await startTestServer({ schema });
});

afterAll(async () => {
  await api.close();
});

interface Caller {
  readonly name: string;
  readonly claims?: Record<string, unknown>;
}

const callers: Record<string, Caller> = {
  anonymous: { name: 'anonymous' },
  // Issued before scopes existed: no scope claim at all.
  old: { name: 'old USER token', claims: { roles: ['USER'], scope: undefined } },
  reader: { name: 'docs:read', claims: { roles: ['USER'], scope: 'docs:read' } },
  docsAll: { name: 'docs:*', claims: { roles: ['USER'], scope: 'docs:* items:read' } },
  star: { name: '*', claims: { roles: ['USER'], scope: '*' } },
  half: { name: 'docs:write', claims: { roles: ['USER'], scope: 'docs:write' } },
  audit: { name: 'audit', claims: { roles: ['USER'], scope: 'audit' } },
  adminReader: { name: 'ADMIN docs:read', claims: { roles: ['ADMIN'], scope: 'docs:read' } },
  admin: { name: 'ADMIN without scopes', claims: { roles: ['ADMIN'] } },
  freshReader: { name: 'fresh docs:read', claims: { scope: 'docs:read', fresh: true } },
  owner: { name: 'owner', claims: { sub: OWNER } },
  ownerReader: { name: 'owner docs:read', claims: { sub: OWNER, scope: 'docs:read' } },
  itemsFresh: {
    name: 'fresh items:read items:secret ADMIN',
    claims: { roles: ['ADMIN'], scope: 'items:read items:secret', fresh: true },
  },
  itemsNoSecret: {
    name: 'fresh items:read ADMIN',
    claims: { roles: ['ADMIN'], scope: 'items:read', fresh: true },
  },
  itemsUser: {
    name: 'fresh items:* USER',
    claims: { roles: ['USER'], scope: 'items:*', fresh: true },
  },
  itemsStale: { name: 'items:* not fresh', claims: { roles: ['ADMIN'], scope: 'items:*' } },
};

function tokenFor(caller: Caller): string | undefined {
  return caller.claims ? forgeAccessToken(accessTokenClaims(caller.claims)) : undefined;
}

const ALLOW = 'allow';
const MISSING = 'UNAUTHENTICATED/MISSING_TOKEN';
const ROLE = 'FORBIDDEN/MISSING_ROLE';
const SCOPE = 'FORBIDDEN/INSUFFICIENT_SCOPE';
const FRESH = 'FORBIDDEN/FRESH_TOKEN_REQUIRED';
const POLICY = 'FORBIDDEN/POLICY_DENIED';

// [field path, query, caller, expected outcome]
const table: Array<[string, string, keyof typeof callers, string]> = [
  // Scopes: exact, hierarchy, wildcard, none at all.
  ['read', '{ read }', 'anonymous', MISSING],
  ['read', '{ read }', 'old', SCOPE],
  ['read', '{ read }', 'reader', ALLOW],
  ['read', '{ read }', 'docsAll', ALLOW],
  ['read', '{ read }', 'star', ALLOW],
  ['read', '{ read }', 'half', SCOPE],
  ['readEmail', '{ readEmail }', 'docsAll', ALLOW],
  ['readEmail', '{ readEmail }', 'reader', SCOPE],
  // OR of AND-groups: both of the first group, or the second alone.
  ['readOrAudit', '{ readOrAudit }', 'reader', SCOPE],
  ['readOrAudit', '{ readOrAudit }', 'half', SCOPE],
  ['readOrAudit', '{ readOrAudit }', 'docsAll', ALLOW],
  ['readOrAudit', '{ readOrAudit }', 'audit', ALLOW],
  // Repeated occurrences are ANDed.
  ['twice', '{ twice }', 'reader', ROLE],
  ['twice', '{ twice }', 'admin', SCOPE],
  ['twice', '{ twice }', 'adminReader', ALLOW],
  // Scopes and freshness in one occurrence.
  ['freshScope', '{ freshScope }', 'reader', FRESH],
  ['freshScope', '{ freshScope }', 'freshReader', ALLOW],
  // A token without scope still works for role-only guards.
  ['roleOnly', '{ roleOnly }', 'old', ALLOW],
  // Policies: a type-level `self` (owner rule) plus a field-level scope.
  ['documents.title', '{ documents { title } }', 'anonymous', MISSING],
  ['documents.title', '{ documents { title } }', 'reader', POLICY],
  ['documents.title', '{ documents { title } }', 'owner', ALLOW],
  ['documents.body', '{ documents { body } }', 'owner', SCOPE],
  ['documents.body', '{ documents { body } }', 'ownerReader', ALLOW],
  // Policies see the arguments.
  ['gate', '{ gate(allow: false) }', 'reader', POLICY],
  ['gate', '{ gate(allow: true) }', 'reader', ALLOW],
  ['gate', '{ gate(allow: false) }', 'anonymous', MISSING],
  // Interface + implementation, type + field, all ANDed.
  ['items.name', '{ items { name } }', 'itemsStale', FRESH],
  ['items.name', '{ items { name } }', 'freshReader', SCOPE],
  ['items.name', '{ items { name } }', 'itemsUser', ALLOW],
  ['items.secret', '{ items { secret } }', 'itemsUser', ROLE],
  ['items.secret', '{ items { secret } }', 'itemsNoSecret', SCOPE],
  ['items.secret', '{ items { secret } }', 'itemsFresh', ALLOW],
];

const rows = table.map(([path, query, caller, expected]) => ({
  path,
  query,
  caller: callers[caller]!,
  expected,
}));

describe('@auth language', () => {
  it.each(rows)('$path as $caller.name: $expected', async ({ path, query, caller, expected }) => {
    const response = await api.gql(query, {}, { token: tokenFor(caller) });
    expect(response.status).toBe(200);
    if (expected === ALLOW) {
      expect(response.body.errors).toBeUndefined();
      return;
    }
    const error = response.body.errors?.[0];
    const [code, reason] = expected.split('/');
    expect(error?.extensions).toMatchObject({ code, reason });
    expect(error?.path?.filter((key) => typeof key === 'string')).toEqual(path.split('.'));
  });

  it('names the scope sets that would have passed', async () => {
    const response = await api.gql('{ readOrAudit }', {}, { token: tokenFor(callers.reader!) });
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'FORBIDDEN',
      reason: 'INSUFFICIENT_SCOPE',
      requiredScopes: [['docs:read', 'docs:write'], ['audit']],
    });
  });

  it('names the policy that refused, also after an asynchronous one passed', async () => {
    const response = await api.gql('{ slow }', {}, { token: tokenFor(callers.reader!) });
    expect(response.body.data).toEqual({ slow: null });
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'FORBIDDEN',
      reason: 'POLICY_DENIED',
      policy: 'slowNo',
    });
  });

  it('answers the rest of a query when some fields are refused', async () => {
    const response = await api.gql(
      '{ read roleOnly readOrAudit }',
      {},
      { token: tokenFor(callers.reader!) },
    );
    expect(response.body.data).toEqual({ read: 'read', roleOnly: 'roleOnly', readOrAudit: null });
    expect(response.body.errors?.map((error) => error.path)).toEqual([['readOrAudit']]);
  });
});
