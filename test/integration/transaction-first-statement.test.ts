import type { DataSource } from 'typeorm';
import { sql } from 'kysely';
import pg from 'pg';
import { inlineParameters, inTransaction, openDataSource, queryBuilder } from '@qnet/persistence';
import { createTestDatabase, type TestDatabase } from '@qnet/testing';

interface Tables {
  notes: { id: number; body: string; tags: string[]; doc: unknown; at: Date; raw: Buffer | null };
}
const db = queryBuilder<Tables>();

/**
 * A transaction's first statement travels with its BEGIN, its parameters written in as literals
 * (inlineParameters): the same rows must come back as with parameters, for every kind of value,
 * and the statement must still be part of the transaction.
 */
describe('a transaction’s first statement, sent with its BEGIN', () => {
  let testDb: TestDatabase;
  let ds: DataSource;
  let client: pg.Client;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    ds = await openDataSource({
      url: testDb.url,
      schema: 'first_statement',
      entities: [],
      migrations: [],
      poolSize: 2,
    });
    await testDb.query(
      `CREATE TABLE first_statement.notes (id int PRIMARY KEY, body text NOT NULL, tags text[] NOT NULL,
         doc jsonb NOT NULL, at timestamptz NOT NULL, raw bytea)`,
    );
    client = new pg.Client({ connectionString: testDb.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await ds?.destroy();
    await testDb?.drop();
  });

  const hostile = [
    '',
    "it's",
    "back\\slash \\' and \\\\",
    "'); DROP TABLE first_statement.notes; --",
    '$1 $$ $tag$ /* -- "',
    'ünïcode 😀 \n\t',
  ];

  it('returns what the parameterized statement returns, for every kind of value', async () => {
    const values: unknown[][] = [
      ...hostile.map((s) => [s, 'text']),
      [42, 'int'],
      [-1.5, 'float8'],
      [true, 'bool'],
      [null, 'text'],
      [['a', 'b"c', "d'e", 'f\\g', ''], 'text[]'],
      [{ rack: "r'7", nested: { s: '\\"', list: [1, 'x'] } }, 'jsonb'],
      [new Date('2026-12-07T01:02:03.004Z'), 'timestamptz'],
      [Buffer.from([0, 1, 39, 92, 255]), 'bytea'],
    ];
    for (const [value, type] of values) {
      const text = `SELECT $1::${type} AS v, 'kept $1' AS w`;
      const expected = (await client.query(text, [value])).rows;
      const inlined = inlineParameters(text, [value]);
      expect(inlined).toBeDefined();
      expect((await client.query(inlined!)).rows).toEqual(expected);
    }
  });

  it('commits the first statement with the rest, and rolls it back with them', async () => {
    const insert = (id: number, body: string) =>
      db.insertInto('notes').values({
        id,
        body,
        tags: ['x', "y'z"],
        doc: JSON.stringify({ body }),
        at: new Date(),
        raw: Buffer.from(body),
      });
    const [row] = await inTransaction(ds, async (tx) => {
      const [inserted] = await tx.run(insert(1, hostile[3]!).returning(['id', 'body', 'tags']));
      await tx.run(insert(2, 'second'));
      return [inserted];
    });
    expect(row).toEqual({ id: 1, body: hostile[3], tags: ['x', "y'z"] });
    await expect(
      inTransaction(ds, async (tx) => {
        await tx.run(insert(3, 'rolled back'));
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    // A first statement the database refuses rolls back too, and the connection is usable after.
    await expect(inTransaction(ds, (tx) => tx.run(insert(1, 'duplicate')))).rejects.toThrow();
    // A value no simple-protocol message can carry (NUL) goes the parameterized way, refused alike.
    await expect(inTransaction(ds, (tx) => tx.run(insert(4, 'nul\u0000')))).rejects.toThrow(/0x00/);
    const rows = await testDb.query<{ id: number; body: string }>(
      'SELECT id, body FROM first_statement.notes ORDER BY id',
    );
    expect(rows).toEqual([
      { id: 1, body: hostile[3] },
      { id: 2, body: 'second' },
    ]);
    const [counted] = await inTransaction(ds, (tx) =>
      tx.run(db.selectFrom('notes').select(sql<number>`count(*)::int`.as('n'))),
    );
    expect(counted?.n).toBe(2);
  });
});
