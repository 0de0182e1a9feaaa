import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Devices1732600000000 implements MigrationInterface {
  name = 'Devices1732600000000';

  async up(q: QueryRunner): Promise<void> {
    // The unique offsets are the pools' invariant: two devices can never hold one tunnel address.
    await q.query(`
      CREATE TABLE devices (
        device_id      text PRIMARY KEY CHECK (device_id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
        type           text NOT NULL CHECK (type IN ('endpoint', 'routing_server')),
        name           text NOT NULL,
        addresses      text[] NOT NULL DEFAULT '{}',
        tun_ipv4       inet NOT NULL,
        tun_ipv4_offset integer NOT NULL UNIQUE,
        tun_ipv6       inet NOT NULL,
        tun_ipv6_offset integer NOT NULL UNIQUE,
        status         text NOT NULL DEFAULT 'registered'
                       CHECK (status IN ('registered', 'online', 'degraded', 'offline')),
        status_details jsonb NOT NULL DEFAULT '{}',
        config         jsonb NOT NULL DEFAULT '{}',
        psk_sealed     text NOT NULL,
        last_seen_at   timestamptz NOT NULL DEFAULT now(),
        registered_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX devices_type ON devices (type, device_id)`);
    // Signatures already accepted, kept until their timestamp leaves the window: a replay is refused.
    await q.query(`
      CREATE TABLE seen_signatures (
        signature  text PRIMARY KEY,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX seen_signatures_expiry ON seen_signatures (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE seen_signatures`);
    await q.query(`DROP TABLE devices`);
  }
}
