import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The interfaces a host last reported as possible uplinks (NULL: unknown, nothing is refused). */
export class HostInterfaces1733800000000 implements MigrationInterface {
  name = 'HostInterfaces1733800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts ADD COLUMN interfaces text[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts DROP COLUMN interfaces`);
  }
}
