import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A network's mode: isolated (L2 only), nat (gateway on the bridge, masqueraded), routed, or
 * bridged (the bridge enslaves uplink_interface).
 */
export class NetworkModes1733600000000 implements MigrationInterface {
  name = 'NetworkModes1733600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE networks
        ADD COLUMN mode text NOT NULL DEFAULT 'isolated'
          CHECK (mode IN ('isolated', 'nat', 'routed', 'bridged')),
        ADD COLUMN uplink_interface text,
        ADD CONSTRAINT networks_uplink_bridged CHECK ((mode = 'bridged') = (uplink_interface IS NOT NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE networks DROP COLUMN uplink_interface, DROP COLUMN mode`);
  }
}
