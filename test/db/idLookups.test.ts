import { MongoClient, ObjectId } from 'mongodb';
import { databaseUri } from '../helpers/apiProcess';
import { uniqueDbName } from '../helpers/testServer';

// Every request-path command addresses its document by `_id` (docs/data-model.md). That only keeps
// its cost flat if the database answers it from the `_id` index rather than by reading the whole
// collection: what this checks, on whichever database the run uses.

let client: MongoClient;

beforeAll(async () => {
  client = await MongoClient.connect(databaseUri(uniqueDbName()));
});

afterAll(async () => {
  await client?.db().dropDatabase();
  await client?.close();
});

interface Explained {
  readonly serverInfo?: { readonly ferretdbVersion?: string };
  readonly queryPlanner?: unknown;
}

/** True when the plan reads through an index: a SQLite `SEARCH … USING INDEX` or a mongod IXSCAN. */
function usesIndex(explained: Explained): boolean {
  const plan = JSON.stringify(explained.queryPlanner ?? {});
  if (explained.serverInfo?.ferretdbVersion !== undefined) return /USING INDEX/.test(plan);
  return !/COLLSCAN/.test(plan) && /IDHACK|IXSCAN|EXPRESS/.test(plan);
}

describe('a lookup by _id', () => {
  it.each([
    ['a string _id (sessions, emails, throttle buckets)', 'strings', (i: number) => `key-${i}`],
    ['an ObjectId _id (users)', 'objectids', () => new ObjectId()],
  ])('reads through the _id index: %s', async (_label, name, makeId) => {
    const collection = client.db().collection<{ _id: string | ObjectId; n: number }>(name);
    const docs = Array.from({ length: 200 }, (_unused, i) => ({ _id: makeId(i), n: i }));
    await collection.insertMany(docs);
    const target = docs[123]!._id;

    const explained = (await client.db().command({
      explain: { find: collection.collectionName, filter: { _id: target } },
    })) as Explained;

    expect({ plan: explained.queryPlanner, index: usesIndex(explained) }).toMatchObject({
      index: true,
    });
    expect(await collection.findOne({ _id: target })).toMatchObject({ n: 123 });
  });
});
