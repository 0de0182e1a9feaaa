import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TunnelFailures1733900000000 implements MigrationInterface {
  name = 'TunnelFailures1733900000000';

  async up(q: QueryRunner): Promise<void> {
    // Routers an endpoint's own probes found unreachable (its tunnel to them stopped answering):
    // not given to that endpoint again before avoid_until, whatever their reports say.
    await q.query(`
      ALTER TABLE endpoints
        ADD COLUMN avoid_router_ids text[] NOT NULL DEFAULT '{}',
        ADD COLUMN avoid_until timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE endpoints DROP COLUMN avoid_router_ids, DROP COLUMN avoid_until`);
  }
}
