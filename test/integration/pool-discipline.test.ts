import type { DataSource } from 'typeorm';
import { sql } from 'kysely';
import { autocommit, inTransaction, openDataSource, queryBuilder } from '@qnet/persistence';
import { createTestDatabase, type TestDatabase } from '@qnet/testing';

interface Tables {
  counters: { id: number; n: number };
}
const db = queryBuilder<Tables>();
const bump = db
  .updateTable('counters')
  .set({ n: sql<number>`n + 1` })
  .where('id', '=', 1);

/**
 * A transaction holds one pooled connection; asking the pool for a second while holding it waits
 * for connections that other such transactions hold, and at pool size concurrency nothing moves.
 * The persistence layer refuses it outright instead.
 */
describe('pooled connections: never a second one inside a transaction', () => {
  let testDb: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    ds = await openDataSource({
      url: testDb.url,
      schema: 'pool_discipline',
      entities: [],
      migrations: [],
      poolSize: 2,
    });
    await testDb.query(
      'CREATE TABLE pool_discipline.counters (id int PRIMARY KEY, n int NOT NULL); INSERT INTO pool_discipline.counters VALUES (1, 0)',
    );
  });
  afterAll(async () => {
    await ds?.destroy();
    await testDb?.drop();
  });

  const count = async () =>
    (await testDb.query<{ n: number }>('SELECT n FROM pool_discipline.counters'))[0]!.n;

  it('refuses autocommit or a nested transaction inside a transaction, and rolls it back', async () => {
    const before = await count();
    await expect(
      inTransaction(ds, async (tx) => {
        await tx.run(bump);
        await autocommit(ds).run(bump);
      }),
    ).rejects.toThrow(/inside a transaction that holds one/);
    await expect(
      inTransaction(ds, async (tx) => {
        await tx.run(bump);
        await inTransaction(ds, (inner) => inner.run(bump));
      }),
    ).rejects.toThrow(/inside a transaction that holds one/);
    expect(await count()).toBe(before);
  });

  it('makes progress with four times the pool size of concurrent transactions', async () => {
    const before = await count();
    await Promise.all(
      Array.from({ length: 8 }, () =>
        inTransaction(ds, async (tx) => {
          await tx.run(bump);
          await tx.run(bump);
        }),
      ),
    );
    expect(await count()).toBe(before + 16);
    // Outside a transaction the pool is the caller's again.
    await autocommit(ds).run(bump);
    expect(await count()).toBe(before + 17);
  });
});
