import type { QueryRunner } from 'typeorm';

/**
 * CREATE EXTENSION IF NOT EXISTS is not safe against itself: two services migrating at once can
 * both try to create it, and one fails on pg_extension's unique index. A transaction-scoped
 * advisory lock makes them take turns.
 */
export async function ensureExtension(q: QueryRunner, name: 'btree_gist'): Promise<void> {
  await q.query(`SELECT pg_advisory_xact_lock(hashtext('qnet.create-extension'))`);
  await q.query(`CREATE EXTENSION IF NOT EXISTS ${name} WITH SCHEMA public`);
}
