import { loadTypeDefs, buildGuardedSchema } from '../../../src/graphql/schema';
import { DateTime } from '../../../src/graphql/resolvers/DateTime';
import { startTestServer, type TestServer } from '../../helpers/testServer';
import { accessTokenClaims, forgeAccessToken } from '../../helpers/tokens';

// A schema of its own: every combination of type-level and field-level guards.
const testTypeDefs = /* GraphQL */ `
  type Query {
    open: String @public
    signedIn: String @auth
    admin: String @auth(requires: [ADMIN])
    userOrAdmin: String @auth(requires: [USER, ADMIN])
    freshOnly: String @auth(fresh: true)
    adminFresh: String @auth(requires: [ADMIN], fresh: true)
    vault: Vault @public
    report: Report @auth
  }

  type Vault @auth(requires: [ADMIN]) {
    secret: String
    note: String @auth(fresh: true)
  }

  type Report {
    title: String
    internal: String @auth(requires: [ADMIN])
  }
`;

const resolvers = {
  DateTime,
  Query: {
    open: () => 'open',
    signedIn: () => 'signedIn',
    admin: () => 'admin',
    userOrAdmin: () => 'userOrAdmin',
    freshOnly: () => 'freshOnly',
    adminFresh: () => 'adminFresh',
    vault: () => ({ secret: 'secret', note: 'note' }),
    report: () => ({ title: 'title', internal: 'internal' }),
  },
};

let api: TestServer;

beforeAll(async () => {
  const directives = loadTypeDefs().filter(
    (sdl) => sdl.includes('directive @auth') || sdl.includes('enum Role'),
  );
  const schema = buildGuardedSchema({ typeDefs: [...directives, testTypeDefs], resolvers });
  api = await startTestServer({ schema });
});

afterAll(async () => {
  await api.close();
});

type Caller = 'anonymous' | 'user' | 'user-fresh' | 'admin' | 'admin-fresh';

function tokenFor(caller: Caller): string | undefined {
  if (caller === 'anonymous') return undefined;
  const roles = caller.startsWith('admin') ? ['USER', 'ADMIN'] : ['USER'];
  return forgeAccessToken(accessTokenClaims({ roles, sid: 's1', fresh: caller.endsWith('fresh') }));
}

const ALLOW = 'allow';
const MISSING = 'UNAUTHENTICATED/MISSING_TOKEN';
const ROLE = 'FORBIDDEN/MISSING_ROLE';
const FRESH = 'FORBIDDEN/FRESH_TOKEN_REQUIRED';

// field path → expected outcome per caller: anonymous, user, user-fresh, admin, admin-fresh
const table: Array<[string, string, [string, string, string, string, string]]> = [
  ['open', '{ open }', [ALLOW, ALLOW, ALLOW, ALLOW, ALLOW]],
  ['signedIn', '{ signedIn }', [MISSING, ALLOW, ALLOW, ALLOW, ALLOW]],
  ['admin', '{ admin }', [MISSING, ROLE, ROLE, ALLOW, ALLOW]],
  ['userOrAdmin', '{ userOrAdmin }', [MISSING, ALLOW, ALLOW, ALLOW, ALLOW]],
  ['freshOnly', '{ freshOnly }', [MISSING, FRESH, ALLOW, FRESH, ALLOW]],
  ['adminFresh', '{ adminFresh }', [MISSING, ROLE, ROLE, FRESH, ALLOW]],
  // Type-level guard on Vault applies to every field of it...
  ['vault.secret', '{ vault { secret } }', [MISSING, ROLE, ROLE, ALLOW, ALLOW]],
  // ...and a field-level guard adds to it rather than replacing it.
  ['vault.note', '{ vault { note } }', [MISSING, ROLE, ROLE, FRESH, ALLOW]],
  ['report.title', '{ report { title } }', [MISSING, ALLOW, ALLOW, ALLOW, ALLOW]],
  ['report.internal', '{ report { internal } }', [MISSING, ROLE, ROLE, ALLOW, ALLOW]],
];
const callers: Caller[] = ['anonymous', 'user', 'user-fresh', 'admin', 'admin-fresh'];

const rows = table.flatMap(([path, query, outcomes]) =>
  callers.map((caller, i) => ({ path, query, caller, expected: outcomes[i]! })),
);

describe('@auth', () => {
  it.each(rows)('$path as $caller: $expected', async ({ path, query, caller, expected }) => {
    const response = await api.gql(query, {}, { token: tokenFor(caller) });
    expect(response.status).toBe(200);
    if (expected === ALLOW) {
      expect(response.body.errors).toBeUndefined();
      return;
    }
    const [code, reason] = expected.split('/');
    // The denied field is the one named in errors[].path, even when it is nested: an anonymous
    // caller of vault.secret is stopped at `vault` only if vault itself is guarded.
    const error = response.body.errors?.[0];
    expect(error?.extensions).toEqual({ code, reason });
    const deniedPath = path.split('.');
    const expectedPath =
      caller === 'anonymous' && path.startsWith('report') ? ['report'] : deniedPath;
    expect(error?.path).toEqual(expectedPath);
  });

  it('keeps sibling fields when one field is denied', async () => {
    const response = await api.gql<{ open: string; admin: string | null }>(
      '{ open admin }',
      {},
      { token: tokenFor('user') },
    );
    expect(response.body.data).toEqual({ open: 'open', admin: null });
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]?.path).toEqual(['admin']);
  });
});
