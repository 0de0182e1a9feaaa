import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Why its host could not realize a NIC (a container namespace that does not exist there), as the
 * host's agent last reported; NULL when it could. The NIC is then ERROR with this as its
 * status_message, while the rest of its network and host applies.
 */
export class NicErrors1733400000000 implements MigrationInterface {
  name = 'NicErrors1733400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE nics ADD COLUMN error text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE nics DROP COLUMN error`);
  }
}
