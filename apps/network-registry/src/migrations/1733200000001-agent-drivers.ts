import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Hosts' linux generations move to the shared agent_drivers table of the desired-state core. */
export class RegistryAgentDrivers1733200000001 implements MigrationInterface {
  name = 'RegistryAgentDrivers1733200000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO agent_drivers (host_id, driver, generation, applied, error)
      SELECT id, 'linux', linux_generation, linux_applied, linux_error FROM hosts
      WHERE linux_generation > 0 OR linux_applied >= 0`);
    await q.query(
      `ALTER TABLE hosts DROP COLUMN linux_generation, DROP COLUMN linux_applied, DROP COLUMN linux_error`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE hosts ADD COLUMN linux_generation bigint NOT NULL DEFAULT 0,
        ADD COLUMN linux_applied bigint NOT NULL DEFAULT -1, ADD COLUMN linux_error text`);
    await q.query(`
      UPDATE hosts h SET linux_generation = a.generation, linux_applied = a.applied,
        linux_error = a.error FROM agent_drivers a WHERE a.host_id = h.id AND a.driver = 'linux'`);
  }
}
