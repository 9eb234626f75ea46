import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { requireClaims } from '../../src/graphql/context';
import {
  anyOf,
  grantsScope,
  self,
  type AuthorizationRules,
  type Policy,
} from '../../src/graphql/directives/policies';
import type { SchemaParts } from '../../src/graphql/schema';
import { UserInputError } from '../../src/errors';
import { hasScope } from '../../src/tokens/scopes';
import type { MutationResolvers, QueryResolvers } from './generated/resolvers';

/** A stored note; its fields are the GraphQL type's, so no mapper is needed. */
export interface NoteRecord {
  readonly id: string;
  readonly text: string;
  /** The user id of its author: the owner `self` compares with the caller's `sub`. */
  readonly ownerId: string;
  readonly createdAt: Date;
}

const MAX_TEXT_LENGTH = 10_000;
/** The scope of the admin override. */
const MODERATE = 'notes:moderate';

/**
 * The notes example (docs/authorization.md, "Adding a type with owner rules"): notes owned by
 * users, readable by their owner or a moderator. Notes live in memory, which keeps the example about
 * authorization; a real module would call a service backed by a model.
 */
export function notesModule(): SchemaParts & { readonly notes: Map<string, NoteRecord> } {
  const notes = new Map<string, NoteRecord>();

  // Owner or moderator: the built-in `self` (through the owner rule below) OR a scope.
  const ownerOrModerator: Policy = anyOf(self, grantsScope(MODERATE));

  // A root field's parent is the root value, so this policy looks the note up from the argument.
  // An unknown id passes: the resolver answers false, and nobody learns which ids exist.
  const mayDeleteNote: Policy = ({ claims, args }) => {
    const note = typeof args.id === 'string' ? notes.get(args.id) : undefined;
    if (!note) return true;
    return claims !== null && (note.ownerId === claims.sub || hasScope(claims.scopes, MODERATE));
  };

  const authorization: AuthorizationRules = {
    owners: { Note: 'ownerId' },
    policies: { ownerOrModerator, mayDeleteNote },
  };

  const Query: QueryResolvers = {
    myNotes: (_root, _args, context) => {
      const { sub } = requireClaims(context);
      return [...notes.values()]
        .filter((note) => note.ownerId === sub)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    },
    note: (_root, { id }) => notes.get(id) ?? null,
    allNotes: () => [...notes.values()],
  };

  const Mutation: MutationResolvers = {
    createNote: (_root, { text }, context) => {
      if (text.trim() === '' || text.length > MAX_TEXT_LENGTH) {
        throw new UserInputError(
          'INVALID_ARGUMENT',
          'text',
          `A note needs 1 to ${MAX_TEXT_LENGTH} characters.`,
        );
      }
      const note: NoteRecord = {
        id: randomUUID(),
        text,
        ownerId: requireClaims(context).sub,
        createdAt: new Date(),
      };
      notes.set(note.id, note);
      return note;
    },
    deleteNote: (_root, { id }) => notes.delete(id),
  };

  return {
    typeDefs: readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'),
    resolvers: { Query, Mutation },
    authorization,
    notes,
  };
}
