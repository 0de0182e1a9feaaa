import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When each address of a network was last given back. IPAM hands out never-used addresses first
 * and, once there are none, the one freed longest ago (as DHCP servers do), so a peer that still
 * caches the previous owner's MAC rarely meets a new owner at the same address. A trigger records
 * every release, whoever deletes the allocation (a NIC, a reservation, a gateway change).
 */
export class IpReleases1733100000000 implements MigrationInterface {
  name = 'IpReleases1733100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ip_releases (
        network_id  uuid NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
        address     inet NOT NULL,
        released_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (network_id, address)
      )`);
    await q.query(`CREATE INDEX ip_releases_oldest ON ip_releases (network_id, released_at)`);
    // A network being deleted takes its allocations with it: nothing to remember then.
    await q.query(`
      CREATE FUNCTION record_ip_release() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM networks WHERE id = OLD.network_id) THEN
          INSERT INTO ip_releases (network_id, address) VALUES (OLD.network_id, OLD.address)
          ON CONFLICT (network_id, address) DO UPDATE SET released_at = clock_timestamp();
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER ip_allocations_released AFTER DELETE ON ip_allocations
      FOR EACH ROW EXECUTE FUNCTION record_ip_release()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER ip_allocations_released ON ip_allocations`);
    await q.query(`DROP FUNCTION record_ip_release()`);
    await q.query(`DROP TABLE ip_releases`);
  }
}
