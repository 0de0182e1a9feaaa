import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Tunnels1733900000000 implements MigrationInterface {
  name = 'Tunnels1733900000000';

  async up(q: QueryRunner): Promise<void> {
    // The key of the device's tunnels; its agent made the pair and keeps the private half.
    await q.query(`
      ALTER TABLE devices ADD COLUMN public_key text
        CHECK (public_key ~ '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$')`);
    // The balancer's decisions as the controller last heard them (its decision.changed events):
    // what each endpoint's and each router's tunnel state is rendered from. Newer decisions win
    // (decided_at, the balancer's database clock), so a redelivered old event changes nothing.
    await q.query(`
      CREATE TABLE tunnel_decisions (
        endpoint_id       text PRIMARY KEY,
        primary_router_id text,
        backup_router_id  text,
        decided_at        double precision NOT NULL
      )`);
    await q.query(`CREATE INDEX tunnel_decisions_primary ON tunnel_decisions (primary_router_id)`);
    await q.query(`CREATE INDEX tunnel_decisions_backup ON tunnel_decisions (backup_router_id)`);
    // What each device's agent last reported of its tunnels (no keys but public ones). An
    // endpoint's router_ids are the routers it still has tunnels to: a router keeps such an
    // endpoint's peer after a decision dropped it, until the endpoint has moved its routes away.
    await q.query(`
      CREATE TABLE tunnel_reports (
        device_id         text PRIMARY KEY REFERENCES devices ON DELETE CASCADE,
        observed          jsonb NOT NULL,
        router_ids        text[] NOT NULL DEFAULT '{}',
        failed_router_ids text[] NOT NULL DEFAULT '{}',
        reported_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX tunnel_reports_routers ON tunnel_reports USING gin (router_ids)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tunnel_reports`);
    await q.query(`DROP TABLE tunnel_decisions`);
    await q.query(`ALTER TABLE devices DROP COLUMN public_key`);
  }
}
