import { getDirective } from '@graphql-tools/utils';
import {
  InvalidGuardsError,
  UnguardedFieldsError,
  UnknownPoliciesError,
} from '../../src/graphql/directives/guardCheck';
import type { AuthorizationRules } from '../../src/graphql/directives/policies';
import { buildGuardedSchema, buildSchema, loadTypeDefs } from '../../src/graphql/schema';

const directives = loadTypeDefs().filter(
  (sdl) => sdl.includes('directive @auth') || sdl.includes('enum Role'),
);

function build(sdl: string, authorization?: AuthorizationRules) {
  return buildGuardedSchema({ typeDefs: [...directives, sdl], resolvers: {}, authorization });
}

describe('buildSchema', () => {
  it('builds the API schema with every root field guarded or public', () => {
    const schema = buildSchema();
    const query = schema.getQueryType()!;
    expect(Object.keys(query.getFields())).toEqual(expect.arrayContaining(['me', 'users']));
    expect(getDirective(schema, query.getFields().users!, 'auth')).toEqual([
      { scopes: [['users:read']], fresh: false },
    ]);
  });

  it('refuses to start when a root field has neither @auth nor @public, naming every offender', () => {
    const attempt = () =>
      build(`
        type Query { ok: String @public, leaky: String }
        type Mutation { guarded: String @auth, alsoLeaky(id: ID): String @deprecated(reason: "x") }
      `);
    expect(attempt).toThrow(UnguardedFieldsError);
    expect(attempt).toThrow(/Query\.leaky, Mutation\.alsoLeaky/);
    expect(attempt).not.toThrow(/Query\.ok|Mutation\.guarded/);
  });

  it('refuses a root field that is both @auth and @public', () => {
    expect(() => build('type Query { confused: String @auth @public }')).toThrow(/Query\.confused/);
  });

  it('accepts a root type guarded as a whole by a type-level @auth', () => {
    expect(() => build('type Query @auth { a: String, b: String }')).not.toThrow();
  });

  it('checks subscription fields too', () => {
    expect(() =>
      build('type Query { a: String @public } type Subscription { events: String }'),
    ).toThrow(/Subscription\.events/);
  });
});

describe('start-up check of @auth guards', () => {
  it('refuses policy names no code registers, listing every one', () => {
    const attempt = () =>
      build(
        `
        type Query { a: Thing @auth(policies: ["known", "ghost"]) }
        type Thing @auth(policies: ["phantom"]) { x: String @auth(policies: ["ghost", "self"]) }
      `,
        { policies: { known: () => true }, owners: { Thing: 'ownerId' } },
      );
    expect(attempt).toThrow(UnknownPoliciesError);
    expect(attempt).toThrow(/registers .*: ghost, phantom$/);
  });

  it('refuses a module whose SDL names a policy it does not register, through buildSchema', () => {
    expect(() =>
      buildSchema({
        typeDefs: 'extend type Query { extra: String @auth(policies: ["nobody"]) }',
        resolvers: {},
      }),
    ).toThrow(/nobody/);
  });

  it('refuses malformed scopes', () => {
    expect(() =>
      build('type Query { a: String @auth(scopes: [["users read", "ok:*"], ["*:x"]]) }'),
    ).toThrow(InvalidGuardsError);
    expect(() => build('type Query { a: String @auth(scopes: [["users read"]]) }')).toThrow(
      /Query\.a asks for the malformed scope "users read"/,
    );
  });

  it('refuses self on a type without an owner, also through an interface', () => {
    const sdl = `
      type Query { items: [Item] @public }
      interface Item @auth(policies: ["self"]) { id: ID }
      type Mine implements Item { id: ID }
      type Theirs implements Item { id: ID }
    `;
    expect(() => build(sdl)).toThrow(/Item uses "self", but no owner is declared for Mine, Theirs/);
    expect(() => build(sdl, { owners: { Mine: 'ownerId' } })).toThrow(/declared for Theirs$/);
    expect(() => build(sdl, { owners: { Mine: 'ownerId', Theirs: 'by' } })).not.toThrow();
  });

  it('refuses self on a root field, which has no owner', () => {
    expect(() => build('type Query { a: String @auth(policies: ["self"]) }')).toThrow(
      /Query\.a uses "self", but no owner is declared for Query/,
    );
  });

  it('refuses to replace the built-in self', () => {
    expect(() =>
      build('type Query { a: String @public }', { policies: { self: () => true } }),
    ).toThrow(/"self" is built in/);
  });

  it('accepts repeated @auth on an object, an interface and a field', () => {
    expect(() =>
      build(`
        type Query { t: T @auth @auth(requires: [ADMIN]) }
        interface I @auth(scopes: [["a"]]) @auth(fresh: true) { x: String }
        type T implements I @auth @auth(scopes: [["b:*"]]) { x: String @auth @auth }
      `),
    ).not.toThrow();
  });
});
