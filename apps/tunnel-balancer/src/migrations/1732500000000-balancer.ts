import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Balancer1732500000000 implements MigrationInterface {
  name = 'Balancer1732500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE routing_servers (
        server_id        text PRIMARY KEY CHECK (server_id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
        server_name      text NOT NULL,
        internal_ip      text NOT NULL,
        external_ip      text NOT NULL,
        cpu_percent      double precision NOT NULL,
        memory_percent   double precision NOT NULL,
        bandwidth_mbps   double precision NOT NULL,
        active_tunnels   integer NOT NULL,
        total_rx_packets bigint NOT NULL DEFAULT 0,
        total_tx_packets bigint NOT NULL DEFAULT 0,
        reported_at      double precision,
        score            double precision NOT NULL,
        last_seen_at     timestamptz NOT NULL DEFAULT now(),
        active           boolean NOT NULL DEFAULT true
      )`);
    // Endpoints come from the device controller's registrations. A router id is a plain column,
    // not a foreign key: servers are never deleted, and a decision may name one that went silent.
    await q.query(`
      CREATE TABLE endpoints (
        endpoint_id       text PRIMARY KEY CHECK (endpoint_id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
        primary_router_id text,
        backup_router_id  text,
        changed_at        timestamptz NOT NULL DEFAULT now(),
        version           bigint NOT NULL DEFAULT 0,
        registered_at     timestamptz NOT NULL DEFAULT now(),
        CHECK (primary_router_id IS DISTINCT FROM backup_router_id OR primary_router_id IS NULL)
      )`);
    await q.query(`CREATE INDEX endpoints_primary ON endpoints (primary_router_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE endpoints`);
    await q.query(`DROP TABLE routing_servers`);
  }
}
