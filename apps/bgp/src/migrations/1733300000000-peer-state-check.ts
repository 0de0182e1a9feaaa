import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A peer's session state is one of BGP's six FSM states (what the agent reports from FRR). */
export class BgpPeerStateCheck1733300000000 implements MigrationInterface {
  name = 'BgpPeerStateCheck1733300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE bgp_peers ADD CONSTRAINT bgp_peers_state
        CHECK (state IN ('IDLE', 'CONNECT', 'ACTIVE', 'OPENSENT', 'OPENCONFIRM', 'ESTABLISHED'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE bgp_peers DROP CONSTRAINT bgp_peers_state`);
  }
}
