import { getDirective } from '@graphql-tools/utils';
import { UnguardedFieldsError } from '../../src/graphql/directives/guardCheck';
import { buildGuardedSchema, buildSchema, loadTypeDefs } from '../../src/graphql/schema';

const directives = loadTypeDefs().filter(
  (sdl) => sdl.includes('directive @auth') || sdl.includes('enum Role'),
);

function build(sdl: string) {
  return buildGuardedSchema({ typeDefs: [...directives, sdl], resolvers: {} });
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
