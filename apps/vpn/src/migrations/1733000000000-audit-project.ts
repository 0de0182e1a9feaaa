import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail outlives its service, so it cannot reach the service's project through a join:
 * each event keeps the project it belongs to (tenancy: README, "Tenancy").
 */
export class VpnAuditProject1733000000000 implements MigrationInterface {
  name = 'VpnAuditProject1733000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE vpn_audit_events ADD COLUMN project_id text`);
    await q.query(`UPDATE vpn_audit_events e SET project_id = s.project_id
      FROM vpn_services s WHERE s.id = e.vpn_service_id`);
    // Events of services deleted before this migration cannot be traced: they are the admin's.
    await q.query(`UPDATE vpn_audit_events SET project_id = '*' WHERE project_id IS NULL`);
    await q.query(`ALTER TABLE vpn_audit_events ALTER COLUMN project_id SET NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE vpn_audit_events DROP COLUMN project_id`);
  }
}
