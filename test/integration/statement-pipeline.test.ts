import type { DataSource } from 'typeorm';
import { sql } from 'kysely';
import pg from 'pg';
import { isDatabaseUnavailable } from '@qnet/bus';
import { inTransaction, openDataSource, queryBuilder, runPipeline } from '@qnet/persistence';
import { createTestDatabase, type TestDatabase } from '@qnet/testing';

interface Tables {
  notes: { id: number; body: string; tags: string[]; doc: unknown; at: Date; raw: Buffer | null };
}
const db = queryBuilder<Tables>();

/**
 * Statements sent together with one Sync (runPipeline): a transaction's BEGIN with its first
 * statement, its last statements with the COMMIT; statements marked `prepare` are prepared once
 * per connection.
 */
describe('statements in one round trip (runPipeline)', () => {
  let testDb: TestDatabase;
  let ds: DataSource;
  let client: pg.Client;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    ds = await openDataSource({
      url: testDb.url,
      schema: 'pipeline',
      entities: [],
      migrations: [],
      poolSize: 2,
    });
    await testDb.query(
      `CREATE TABLE pipeline.notes (id int PRIMARY KEY, body text NOT NULL, tags text[] NOT NULL,
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
    "'); DROP TABLE pipeline.notes; --",
    '$1 $$ $tag$ /* -- "',
    'ünïcode 😀 \n\t',
  ];
  const prepared = async (text: string) =>
    (
      await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1',
        [text],
      )
    ).rows[0]!.n;

  it('returns what pg’s own parameterized query returns, for every kind of value, on every use', async () => {
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
    for (const [i, [value, type]] of values.entries()) {
      const text = `SELECT $1::${type} AS v, 'kept $1 of ${i}' AS w`;
      const expected = (await client.query(text, [value])).rows;
      // Unmarked, each use is parsed and planned on its own; marked, the first use prepares it.
      for (const prepare of [false, false, true, true, true]) {
        const [, result] = await runPipeline(client, [
          { text: 'SELECT 1 AS one', values: [] },
          { text, values: [value], prepare },
        ]);
        expect(result!.rows).toEqual(expected);
        expect(await prepared(text)).toBe(prepare ? 1 : 0);
      }
    }
  });

  it('runs statements sent together as one transaction: after a refused one, none of them counts', async () => {
    const insert = {
      text: 'INSERT INTO pipeline.notes VALUES ($1, $2, $3, $4, now())',
      values: [],
    };
    const row = (id: number, body: string) => ({ ...insert, values: [id, body, ['t'], '{}'] });
    await runPipeline(client, [row(10, 'kept')]);
    await expect(
      runPipeline(client, [row(11, 'rolled back'), row(10, 'duplicate'), row(12, 'never run')]),
    ).rejects.toMatchObject({ code: '23505' });
    // The connection is usable after, and its prepared statements are too.
    await runPipeline(client, [row(13, 'after')]);
    const { rows } = await client.query('SELECT id FROM pipeline.notes WHERE id >= 10 ORDER BY id');
    expect(rows).toEqual([{ id: 10 }, { id: 13 }]);
    await client.query('DELETE FROM pipeline.notes');
  });

  it('prepares a text again after an error left its Parse unconfirmed', async () => {
    const text = "SELECT $1::text || ' again' AS v";
    // Its first use parses it under a name; the refused statement after it fails the message, so
    // this connection never learns that the Parse succeeded.
    await expect(
      runPipeline(client, [
        { text, values: ['first'], prepare: true },
        { text: 'SELECT 1/0', values: [] },
      ]),
    ).rejects.toMatchObject({ code: '22012' });
    const [result] = await runPipeline(client, [{ text, values: ['third'], prepare: true }]);
    expect(result!.rows).toEqual([{ v: 'third again' }]);
    expect(await prepared(text)).toBe(1);
  });

  it('refuses a value pg cannot convert before anything is sent', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(
      runPipeline(client, [{ text: 'SELECT $1::jsonb', values: [circular] }]),
    ).rejects.toThrow(/circular/i);
    expect((await client.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
  });

  it('commits a transaction’s first statement with the rest, and rolls it back with them', async () => {
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
    await expect(inTransaction(ds, (tx) => tx.run(insert(4, 'nul\u0000')))).rejects.toThrow(/0x00/);
    // A last statement the database refuses at the COMMIT rolls the whole transaction back.
    await expect(
      inTransaction(
        ds,
        (tx) => tx.run(insert(5, 'with a refused last statement')),
        () => insert(2, 'duplicate'),
      ),
    ).rejects.toMatchObject({ code: '23505' });
    const rows = await testDb.query<{ id: number; body: string }>(
      'SELECT id, body FROM pipeline.notes ORDER BY id',
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

  it('a connection the server ends while a transaction holds it fails that transaction, not the process', async () => {
    const backendPid = db.selectNoFrom(sql<number>`pg_backend_pid()`.as('pid'));
    const dropped = inTransaction(ds, async (tx) => {
      const [row] = await tx.run(backendPid);
      // Between two statements no query is active: the server's FATAL goes to the client itself.
      await client.query('SELECT pg_terminate_backend($1)', [row!.pid]);
      await waitForGone(row!.pid);
      return tx.run(backendPid);
    });
    const err: unknown = await dropped.catch((e: unknown) => e);
    expect(isDatabaseUnavailable(err)).toBe(true);
    // The pool dropped the dead connection: the next transaction gets a live one.
    const [row] = await inTransaction(ds, (tx) => tx.run(backendPid));
    expect(row!.pid).toEqual(expect.any(Number));
  });

  const waitForGone = async (pid: number) => {
    for (let i = 0; i < 100; i++) {
      const { rows } = await client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      if (!rows.length) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`backend ${pid} was not terminated`);
  };
});
