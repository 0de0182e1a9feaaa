import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A network's mode: isolated (L2 only), nat (gateway on the bridge, masqueraded) or routed. */
export class NetworkModes1733600000000 implements MigrationInterface {
  name = 'NetworkModes1733600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE networks ADD COLUMN mode text NOT NULL DEFAULT 'isolated' CHECK (mode IN ('isolated', 'nat', 'routed'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE networks DROP COLUMN mode`);
  }
}
