import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DomainEvent } from '@qnet/service';
import {
  DEFAULT_PAGE_SIZE,
  pageOf,
  pageStart,
  QnetError,
  type AuditEventView,
  type ListAuditEventsRequest,
  type Page,
} from '@qnet/contracts';
import { autocommit, callerScope, DATA_SOURCE, inScope, type SqlTx } from '@qnet/persistence';
import { currentContext } from '@qnet/runtime';

/** An audited action: `<resource>.<event>`, also the subject suffix of its qnet.evt.vpn event. */
export interface AuditEntry {
  vpn_service_id: string;
  connection_id?: string;
  action: string;
  detail?: string;
  /** Who did it; default: the API caller (its token's project, or "admin" when unscoped). */
  actor?: string;
}

const COLUMNS = `id::text AS id, vpn_service_id, COALESCE(connection_id::text, '') AS connection_id, action,
  actor, detail, request_id, occurred_at`;

type AuditRow = Omit<AuditEventView, 'occurred_at'> & { occurred_at: Date };

const toView = (r: AuditRow): AuditEventView => ({
  ...r,
  occurred_at: r.occurred_at.toISOString(),
});

/** An audit entry as its domain event, qnet.evt.vpn.<resource>.<event>. */
export function auditEvent(e: AuditEventView): DomainEvent {
  const [resource = '', event = ''] = e.action.split('.');
  return { resource, event, id: e.connection_id || e.vpn_service_id, data: e };
}

/** The VPN audit trail: rows written with the change they describe, each also a domain event. */
@Injectable()
export class AuditLog {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  /** Recorded in the transaction of the change it describes: no change without its audit row. */
  async record(tx: SqlTx, e: AuditEntry): Promise<AuditEventView> {
    const ctx = currentContext();
    const actor = e.actor ?? (ctx?.project ? `project:${ctx.project}` : 'admin');
    const [row] = await tx.rows<AuditRow>(
      // The service's project; a deletion is recorded after its row is gone, from its earlier events.
      `INSERT INTO vpn_audit_events (vpn_service_id, connection_id, action, actor, detail, request_id, project_id)
       VALUES ($1, $2, $3, $4, $5, $6, coalesce(
         (SELECT project_id FROM vpn_services WHERE id = $1),
         (SELECT project_id FROM vpn_audit_events WHERE vpn_service_id = $1 LIMIT 1)))
       RETURNING ${COLUMNS}`,
      [
        e.vpn_service_id,
        e.connection_id ?? null,
        e.action,
        actor,
        e.detail ?? '',
        ctx?.requestId ?? '',
      ],
    );
    return toView(row!);
  }

  /** A service's trail, oldest first; it outlives the service (404 only when there is neither). */
  async list(req: ListAuditEventsRequest): Promise<Page<AuditEventView>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const after = pageStart(req.page_token);
    if (after !== undefined && !/^\d+$/.test(after))
      throw QnetError.invalid('page_token', 'is not a token this API issued');
    const tx = autocommit(this.ds);
    const rows = await tx.rows<AuditRow>(
      `SELECT ${COLUMNS} FROM vpn_audit_events
       WHERE vpn_service_id = $1 AND ($2::bigint IS NULL OR id > $2) AND ${inScope('project_id', 4)}
       ORDER BY id LIMIT $3`,
      [req.vpn_service_id, after ?? null, limit + 1, callerScope()],
    );
    if (!rows.length && after === undefined) {
      const [service] = await tx.rows(
        `SELECT 1 FROM vpn_services WHERE id = $1 AND ${inScope('project_id', 2)}`,
        [req.vpn_service_id, callerScope()],
      );
      if (!service) throw QnetError.notFound('vpn service', req.vpn_service_id);
    }
    return pageOf(rows, limit, toView, (v) => v.id);
  }
}
