import type { MigrationInterface, QueryRunner } from 'typeorm';

/** lb_hosts' generations move to the shared agent_drivers table of the desired-state core. */
export class LbAgentDrivers1733200000001 implements MigrationInterface {
  name = 'LbAgentDrivers1733200000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO agent_drivers (host_id, driver, generation, applied, error, reported_at)
      SELECT host_id, driver, generation, applied, error, reported_at FROM lb_hosts`);
    await q.query(`DROP TABLE lb_hosts CASCADE`);
    await q.query(`
      ALTER TABLE load_balancers ADD CONSTRAINT load_balancers_host_driver
        FOREIGN KEY (host_id, driver) REFERENCES agent_drivers (host_id, driver)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE load_balancers DROP CONSTRAINT load_balancers_host_driver`);
    await q.query(`
      CREATE TABLE lb_hosts (
        host_id text NOT NULL, driver text NOT NULL, generation bigint NOT NULL DEFAULT 0,
        applied bigint NOT NULL DEFAULT 0, error text, reported_at timestamptz,
        PRIMARY KEY (host_id, driver))`);
    await q.query(`
      INSERT INTO lb_hosts SELECT host_id, driver, generation, applied, error, reported_at
      FROM agent_drivers WHERE driver IN ('lb_nft', 'lb_ovn')`);
    await q.query(`
      ALTER TABLE load_balancers ADD FOREIGN KEY (host_id, driver) REFERENCES lb_hosts (host_id, driver)`);
  }
}
