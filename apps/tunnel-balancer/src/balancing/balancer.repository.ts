import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ReportMetricsRequest } from '@qnet/contracts';
import { autocommit, DATA_SOURCE, sqlRows, type SqlTx } from '@qnet/persistence';
import type { Assignment } from './decide.js';

export interface RouterRow {
  server_id: string;
  server_name: string;
  internal_ip: string;
  external_ip: string;
  cpu_percent: number;
  memory_percent: number;
  bandwidth_mbps: number;
  active_tunnels: number;
  score: number;
  active: boolean;
}

export interface EndpointRow {
  endpoint_id: string;
  primary_router_id: string | null;
  backup_router_id: string | null;
  changed_ms: number;
}

export interface DecisionRow extends EndpointRow {
  primary_internal_ip: string | null;
  primary_external_ip: string | null;
  primary_score: number | null;
  backup_internal_ip: string | null;
  backup_external_ip: string | null;
}

const ROUTER_COLUMNS = `server_id, server_name, internal_ip, external_ip, cpu_percent, memory_percent,
  bandwidth_mbps, active_tunnels, score, active`;

/** Routing servers and endpoint decisions. Times come from the database's clock, shared by every instance. */
@Injectable()
export class BalancerRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  /** Records a report; returns whether the server was unknown or inactive before it (a decision may change now). */
  async recordMetrics(m: ReportMetricsRequest, score: number): Promise<{ wasActive: boolean }> {
    const rows = await sqlRows<{ was_active: boolean | null }>(
      this.ds,
      `WITH prev AS (SELECT active FROM routing_servers WHERE server_id = $1)
       INSERT INTO routing_servers (server_id, server_name, internal_ip, external_ip, cpu_percent,
         memory_percent, bandwidth_mbps, active_tunnels, total_rx_packets, total_tx_packets,
         reported_at, score, last_seen_at, active)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now(), true)
       ON CONFLICT (server_id) DO UPDATE SET server_name = EXCLUDED.server_name,
         internal_ip = EXCLUDED.internal_ip, external_ip = EXCLUDED.external_ip,
         cpu_percent = EXCLUDED.cpu_percent, memory_percent = EXCLUDED.memory_percent,
         bandwidth_mbps = EXCLUDED.bandwidth_mbps, active_tunnels = EXCLUDED.active_tunnels,
         total_rx_packets = EXCLUDED.total_rx_packets, total_tx_packets = EXCLUDED.total_tx_packets,
         reported_at = EXCLUDED.reported_at, score = EXCLUDED.score, last_seen_at = now(), active = true
       RETURNING (SELECT active FROM prev) AS was_active`,
      [
        m.server_id,
        m.server_name,
        m.internal_ip,
        m.external_ip,
        m.cpu_percent,
        m.memory_percent,
        m.bandwidth_mbps,
        m.active_tunnels,
        m.total_rx_packets ?? 0,
        m.total_tx_packets ?? 0,
        m.timestamp ?? null,
        score,
      ],
    );
    return { wasActive: rows[0]?.was_active === true };
  }

  /**
   * Marks silent servers inactive (and reporting ones active); returns the servers that changed.
   * Silence is counted from `since` at the earliest: routers could not report to a balancer that
   * was down, so a restart must not fail their endpoints over.
   */
  async refreshActivity(
    tx: SqlTx,
    inactiveAfterMs: number,
    since: Date,
  ): Promise<{ server_id: string; active: boolean }[]> {
    return tx.rows(
      `UPDATE routing_servers SET active = NOT active
       WHERE (active AND greatest(last_seen_at, $2::timestamptz) <= now() - make_interval(secs => $1::float8 / 1000))
          OR (NOT active AND last_seen_at > now() - make_interval(secs => $1::float8 / 1000))
       RETURNING server_id, active`,
      [inactiveAfterMs, since],
    );
  }

  routers(tx: SqlTx): Promise<RouterRow[]> {
    return tx.rows(`SELECT ${ROUTER_COLUMNS} FROM routing_servers ORDER BY server_id`);
  }

  endpoints(tx: SqlTx): Promise<EndpointRow[]> {
    return tx.rows(
      `SELECT endpoint_id, primary_router_id, backup_router_id,
              (extract(epoch FROM changed_at) * 1000)::float8 AS changed_ms
       FROM endpoints`,
    );
  }

  async databaseNow(): Promise<Date> {
    const [row] = await sqlRows<{ now: Date }>(this.ds, `SELECT now() AS now`);
    return row!.now;
  }

  /** The database clock in ms: the `now` of one evaluation round. */
  async nowMs(tx: SqlTx): Promise<number> {
    const [row] = await tx.rows<{ ms: number }>(
      `SELECT (extract(epoch FROM now()) * 1000)::float8 AS ms`,
    );
    return row!.ms;
  }

  /** Only one instance evaluates at a time; the others skip the round. Held until the transaction ends. */
  async tryEvaluatorLock(tx: SqlTx): Promise<boolean> {
    const [row] = await tx.rows<{ ok: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtext('tunnel-balancer.evaluate')) AS ok`,
    );
    return row!.ok;
  }

  async saveAssignments(tx: SqlTx, changes: { id: string; next: Assignment }[]): Promise<void> {
    if (!changes.length) return;
    await tx.rows(
      `UPDATE endpoints e SET primary_router_id = c.p, backup_router_id = c.b,
         changed_at = to_timestamp(c.t / 1000), version = e.version + 1
       FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS c(id, p, b, t)
       WHERE e.endpoint_id = c.id`,
      [
        changes.map((c) => c.id),
        changes.map((c) => c.next.primary),
        changes.map((c) => c.next.backup),
        changes.map((c) => c.next.changedAt),
      ],
    );
  }

  async addEndpoint(id: string): Promise<void> {
    await sqlRows(
      this.ds,
      `INSERT INTO endpoints (endpoint_id) VALUES ($1) ON CONFLICT DO NOTHING`,
      [id],
    );
  }

  async removeEndpoint(id: string): Promise<void> {
    await sqlRows(this.ds, `DELETE FROM endpoints WHERE endpoint_id = $1`, [id]);
  }

  async decision(endpointId: string): Promise<DecisionRow | undefined> {
    const [row] = await sqlRows<DecisionRow>(
      this.ds,
      `SELECT e.endpoint_id, e.primary_router_id, e.backup_router_id,
              (extract(epoch FROM e.changed_at) * 1000)::float8 AS changed_ms,
              p.internal_ip AS primary_internal_ip, p.external_ip AS primary_external_ip,
              p.score AS primary_score,
              b.internal_ip AS backup_internal_ip, b.external_ip AS backup_external_ip
       FROM endpoints e
       LEFT JOIN routing_servers p ON p.server_id = e.primary_router_id
       LEFT JOIN routing_servers b ON b.server_id = e.backup_router_id
       WHERE e.endpoint_id = $1`,
      [endpointId],
    );
    return row;
  }

  async status(): Promise<{ routers: RouterRow[]; decided: number }> {
    const routers = await this.routers(autocommit(this.ds));
    const [count] = await sqlRows<{ n: number }>(
      this.ds,
      `SELECT count(*)::int AS n FROM endpoints WHERE primary_router_id IS NOT NULL`,
    );
    return { routers, decided: count!.n };
  }

  async listAssignments(
    after: string | undefined,
    limit: number,
  ): Promise<Omit<EndpointRow, 'changed_ms'>[]> {
    return sqlRows(
      this.ds,
      `SELECT endpoint_id, primary_router_id, backup_router_id
       FROM endpoints WHERE ($1::text IS NULL OR endpoint_id > $1)
       ORDER BY endpoint_id LIMIT $2`,
      [after ?? null, limit],
    );
  }
}
