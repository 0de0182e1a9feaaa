import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { assertTestDatabase } from '@qnet/persistence';
import { ensureDatabase } from '@qnet/stack';

export const TEST_SERVER_URL =
  process.env.QNET_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh database per test file (qnet_test_<random>), dropped afterwards. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `qnet_test_${randomBytes(5).toString('hex')}`;
  const url = await ensureDatabase(TEST_SERVER_URL, name);
  assertTestDatabase(url);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return {
    url,
    name,
    async query<T>(sql: string, params: unknown[] = []) {
      return (await pool.query(sql, params)).rows as T[];
    },
    async drop() {
      await pool.end();
      const admin = new pg.Client({ connectionString: TEST_SERVER_URL });
      await admin.connect();
      try {
        // A pool's end() resolves before its sockets close; terminating those sessions (FORCE)
        // would hand their clients an error nobody listens for, so wait for them to go first.
        for (let i = 0; i < 50; i++) {
          const { rows } = await admin.query(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (rows[0].n === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
