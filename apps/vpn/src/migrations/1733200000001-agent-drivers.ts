import type { MigrationInterface, QueryRunner } from 'typeorm';

/** vpn_hosts' generations move to the shared agent_drivers table of the desired-state core. */
export class VpnAgentDrivers1733200000001 implements MigrationInterface {
  name = 'VpnAgentDrivers1733200000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO agent_drivers (host_id, driver, generation, applied, error, reported_at)
      SELECT host_id, 'wireguard', generation, applied, error, reported_at FROM vpn_hosts`);
    await q.query(`DROP TABLE vpn_hosts CASCADE`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE vpn_hosts (
        host_id text PRIMARY KEY, generation bigint NOT NULL DEFAULT 0,
        applied bigint NOT NULL DEFAULT 0, error text, reported_at timestamptz)`);
    await q.query(`
      INSERT INTO vpn_hosts SELECT host_id, generation, applied, error, reported_at
      FROM agent_drivers WHERE driver = 'wireguard'`);
    await q.query(`
      ALTER TABLE vpn_services ADD FOREIGN KEY (host_id) REFERENCES vpn_hosts (host_id)`);
  }
}
