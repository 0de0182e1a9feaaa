import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The driver check lb_hosts had (dropped with it) now holds on load_balancers itself. */
export class LbDriverCheck1733300000000 implements MigrationInterface {
  name = 'LbDriverCheck1733300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE load_balancers ADD CONSTRAINT load_balancers_driver
        CHECK (driver IN ('lb_nft', 'lb_ovn'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE load_balancers DROP CONSTRAINT load_balancers_driver`);
  }
}
