import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * bgp_hosts' generations move to the shared agent_drivers table of the desired-state core; what
 * stays is what only BGP observes of a node (whether its FRR answers).
 */
export class BgpAgentDrivers1733200000001 implements MigrationInterface {
  name = 'BgpAgentDrivers1733200000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO agent_drivers (host_id, driver, generation, applied, error, reported_at)
      SELECT host_id, 'frr', generation, applied, error, reported_at FROM bgp_hosts`);
    await q.query(`ALTER TABLE bgp_speakers DROP CONSTRAINT bgp_speakers_node_id_fkey`);
    await q.query(`
      ALTER TABLE bgp_hosts DROP COLUMN generation, DROP COLUMN applied, DROP COLUMN error,
        DROP COLUMN reported_at`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE bgp_hosts ADD COLUMN generation bigint NOT NULL DEFAULT 0,
        ADD COLUMN applied bigint NOT NULL DEFAULT 0, ADD COLUMN error text,
        ADD COLUMN reported_at timestamptz`);
    await q.query(`
      INSERT INTO bgp_hosts (host_id) SELECT host_id FROM agent_drivers WHERE driver = 'frr'
      ON CONFLICT DO NOTHING`);
    await q.query(`
      UPDATE bgp_hosts b SET generation = a.generation, applied = a.applied, error = a.error,
        reported_at = a.reported_at FROM agent_drivers a WHERE a.host_id = b.host_id AND a.driver = 'frr'`);
    await q.query(`
      ALTER TABLE bgp_speakers ADD CONSTRAINT bgp_speakers_node_id_fkey
        FOREIGN KEY (node_id) REFERENCES bgp_hosts (host_id)`);
  }
}
