import { buildSchema } from '../../src/graphql/schema';
import {
  AllNotesDocument,
  CreateNoteDocument,
  DeleteNoteDocument,
  MyNotesDocument,
  NoteDocument,
} from '../../examples/notes/generated/operations';
import { notesModule } from '../../examples/notes/notes';
import {
  GOOD_PASSWORD,
  LOGIN,
  registerUser,
  type AuthPayload,
  bodyPayload,
} from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

// The example module loaded into the real API, over HTTP and the real database of users, with a
// role→scope map that gives users their notes and administrators the moderation override.
let api: TestServer;
let notes: ReturnType<typeof notesModule>;
let alice: AuthPayload;
let bob: AuthPayload;
let admin: AuthPayload;

beforeAll(async () => {
  notes = notesModule();
  api = await startTestServer({
    schema: buildSchema(notes),
    env: { ROLE_SCOPES: 'USER=notes:read notes:write;ADMIN=users:* notes:*' },
  });
  alice = await registerUser(api);
  bob = await registerUser(api);
  const registered = await registerUser(api);
  await api.database.models.User.updateOne(
    { _id: registered.user.id },
    { $set: { roles: ['USER', 'ADMIN'] } },
  );
  admin = bodyPayload(
    (await api.gql(LOGIN, { input: { email: registered.user.email, password: GOOD_PASSWORD } }))
      .body.data!.login,
  );
});

afterAll(async () => {
  await api.close();
});

async function create(author: AuthPayload, text: string): Promise<string> {
  const response = await api.gql(CreateNoteDocument, { text }, { token: author.accessToken });
  const id = response.body.data?.createNote.id;
  if (!id) throw new Error(`createNote failed: ${JSON.stringify(response.body.errors)}`);
  return id;
}

describe('the notes example', () => {
  it('is not part of the default server', async () => {
    const plain = await startTestServer();
    try {
      const response = await plain.gql(MyNotesDocument, {}, { token: alice.accessToken });
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    } finally {
      await plain.close();
    }
  });

  it('lets an owner write and read their notes', async () => {
    const id = await create(alice, 'first');
    const mine = await api.gql(MyNotesDocument, {}, { token: alice.accessToken });
    expect(mine.body.data?.myNotes.map((note) => note.id)).toContain(id);
    expect(mine.body.data?.myNotes.every((note) => note.ownerId === alice.user.id)).toBe(true);
    const one = await api.gql(NoteDocument, { id }, { token: alice.accessToken });
    expect(one.body.data?.note).toMatchObject({ id, text: 'first', ownerId: alice.user.id });
  });

  it("refuses somebody else's note with POLICY_DENIED, nulling the nullable note", async () => {
    const id = await create(alice, 'private');
    const response = await api.gql(NoteDocument, { id }, { token: bob.accessToken });
    expect(response.body.data).toEqual({ note: null });
    expect(response.body.errors?.[0]).toMatchObject({
      path: ['note', 'id'],
      extensions: { code: 'FORBIDDEN', reason: 'POLICY_DENIED', policy: 'ownerOrModerator' },
    });
  });

  it('lets a moderator (notes:* covers notes:moderate) read every note: the admin override', async () => {
    const id = await create(bob, 'moderated');
    const one = await api.gql(NoteDocument, { id }, { token: admin.accessToken });
    expect(one.body.data?.note?.text).toBe('moderated');
    const all = await api.gql(AllNotesDocument, {}, { token: admin.accessToken });
    expect(all.body.data?.allNotes?.map((note) => note.id)).toContain(id);
  });

  it('refuses allNotes to a user on scope, naming both scope sets', async () => {
    const response = await api.gql(AllNotesDocument, {}, { token: alice.accessToken });
    expect(response.body.data).toEqual({ allNotes: null });
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'FORBIDDEN',
      reason: 'INSUFFICIENT_SCOPE',
      requiredScopes: [['notes:moderate'], ['notes:read', 'users:read']],
    });
  });

  it('lets only the owner or a moderator delete a note, by the policy on the argument', async () => {
    const id = await create(alice, 'to delete');
    const refused = await api.gql(DeleteNoteDocument, { id }, { token: bob.accessToken });
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      reason: 'POLICY_DENIED',
      policy: 'mayDeleteNote',
    });
    expect(notes.notes.has(id)).toBe(true);
    const deleted = await api.gql(DeleteNoteDocument, { id }, { token: alice.accessToken });
    expect(deleted.body.data).toEqual({ deleteNote: true });
    const again = await api.gql(DeleteNoteDocument, { id }, { token: admin.accessToken });
    expect(again.body.data).toEqual({ deleteNote: false });
  });

  it('refuses an anonymous note before anything is stored', async () => {
    const before = notes.notes.size;
    const response = await api.gql(CreateNoteDocument, { text: 'anonymous' });
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'UNAUTHENTICATED',
      reason: 'MISSING_TOKEN',
    });
    expect(notes.notes.size).toBe(before);
  });

  it('answers an empty note with BAD_USER_INPUT', async () => {
    const response = await api.gql(CreateNoteDocument, { text: ' ' }, { token: bob.accessToken });
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_ARGUMENT',
      field: 'text',
    });
  });
});
