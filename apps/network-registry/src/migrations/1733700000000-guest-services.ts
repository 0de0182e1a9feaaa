import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a network serves its guests (DHCP, DNS upstreams, option 121 routes) and what a NIC's
 * port allows (port security, allowed address pairs), with the drops its host last reported.
 */
export class GuestServices1733700000000 implements MigrationInterface {
  name = 'GuestServices1733700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE networks
        ADD COLUMN dhcp boolean NOT NULL DEFAULT true,
        ADD COLUMN dns_servers inet[] NOT NULL DEFAULT '{}',
        ADD COLUMN static_routes jsonb NOT NULL DEFAULT '[]'`);
    await q.query(`
      ALTER TABLE nics
        ADD COLUMN hostname text CHECK (hostname ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
        ADD COLUMN port_security boolean NOT NULL DEFAULT true,
        ADD COLUMN allowed_address_pairs jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN port_security_drops bigint NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE nics DROP COLUMN hostname, DROP COLUMN port_security, DROP COLUMN allowed_address_pairs, DROP COLUMN port_security_drops`,
    );
    await q.query(
      `ALTER TABLE networks DROP COLUMN dhcp, DROP COLUMN dns_servers, DROP COLUMN static_routes`,
    );
  }
}
