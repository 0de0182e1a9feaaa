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
import { autocommit, DATA_SOURCE, inCallerScope, type SqlTx } from '@qnet/persistence';
import { sql } from 'kysely';
import { db } from '../db/index.js';
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

const COLUMNS = [
  sql<string>`id::text`.as('id'),
  'vpn_service_id',
  sql<string>`coalesce(connection_id::text, '')`.as('connection_id'),
  'action',
  'actor',
  'detail',
  'request_id',
  'occurred_at',
] as const;

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

  /**
   * Recorded in the transaction of the change it describes: no change without its audit row. With
   * its project, which its event carries (the trail's listing does not repeat it).
   */
  async record(tx: SqlTx, e: AuditEntry): Promise<AuditEventView & { project_id: string }> {
    const ctx = currentContext();
    const actor = e.actor ?? (ctx?.project ? `project:${ctx.project}` : 'admin');
    const [row] = await tx.run(
      db
        .insertInto('vpn_audit_events')
        .values({
          vpn_service_id: e.vpn_service_id,
          connection_id: e.connection_id ?? null,
          action: e.action,
          actor,
          detail: e.detail ?? '',
          request_id: ctx?.requestId ?? '',
          // The service's project; a deletion is recorded after its row is gone, from its earlier events.
          project_id: sql<string>`coalesce(
            (SELECT project_id FROM vpn_services WHERE id = ${e.vpn_service_id}),
            (SELECT project_id FROM vpn_audit_events WHERE vpn_service_id = ${e.vpn_service_id} LIMIT 1))`,
        })
        .returning([...COLUMNS, 'project_id']),
    );
    if (!row) throw new Error('INSERT returned no row');
    return { ...toView(row), project_id: row.project_id };
  }

  /** A service's trail, oldest first; it outlives the service (404 only when there is neither). */
  async list(req: ListAuditEventsRequest): Promise<Page<AuditEventView>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const after = pageStart(req.page_token);
    if (after !== undefined && !/^\d+$/.test(after))
      throw QnetError.invalid('page_token', 'is not a token this API issued');
    const tx = autocommit(this.ds);
    const rows = await tx.run(
      db
        .selectFrom('vpn_audit_events')
        .select(COLUMNS)
        .where('vpn_service_id', '=', req.vpn_service_id)
        .$call((q) => (after === undefined ? q : q.where('id', '>', after)))
        .where(inCallerScope('project_id'))
        .orderBy('vpn_audit_events.id')
        .limit(limit + 1),
    );
    if (!rows.length && after === undefined) {
      const [service] = await tx.run(
        db
          .selectFrom('vpn_services')
          .select('id')
          .where('id', '=', req.vpn_service_id)
          .where(inCallerScope('project_id')),
      );
      if (!service) throw QnetError.notFound('vpn service', req.vpn_service_id);
    }
    return pageOf(rows, limit, toView, (v) => v.id);
  }
}
