import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  pageOf,
  pageStart,
  DEFAULT_PAGE_SIZE,
  QnetError,
  type Capability,
  type HeartbeatRequest,
  type HostHealth,
  type HostView,
  type ListHostsRequest,
  type Page,
  type RegisterHostRequest,
  type UpdateHostRequest,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE, sqlRows, type SqlTx } from '@qnet/persistence';
import { HEALTH_SQL, type HealthWindows } from './health.js';
import { HEALTH_WINDOWS } from './tokens.js';
import { escapeLike } from '../sql.js';

interface HostRow {
  id: string;
  hostname: string;
  underlay_ip: string;
  capabilities: string[];
  drivers: string[];
  mode: string;
  agent_version: string;
  description: string;
  labels: Record<string, string>;
  health: HostHealth;
  registered_at: Date;
  last_seen_at: Date;
}

const COLUMNS = `id, hostname, host(underlay_ip) AS underlay_ip, capabilities, drivers, mode, agent_version,
  description, labels, registered_at, last_seen_at`;

/** All host state changes are single SQL statements: concurrent agents and instances cannot race. */
@Injectable()
export class HostRepository {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(HEALTH_WINDOWS) private readonly windows: HealthWindows,
  ) {}

  /** Insert or refresh; `created` tells a first registration (or one after the registry lost the host). */
  async register(tx: SqlTx, r: RegisterHostRequest): Promise<{ host: HostView; created: boolean }> {
    const rows = await tx.rows<HostRow & { created: boolean }>(
      `INSERT INTO hosts AS h (id, hostname, underlay_ip, capabilities, drivers, mode, agent_version)
       VALUES ($3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, underlay_ip = EXCLUDED.underlay_ip,
         capabilities = EXCLUDED.capabilities, drivers = EXCLUDED.drivers, mode = EXCLUDED.mode,
         agent_version = EXCLUDED.agent_version, last_seen_at = now(), health = 'healthy'
       RETURNING ${COLUMNS}, ${HEALTH_SQL} AS health, (xmax = 0) AS created`,
      [
        this.windows.healthyMs,
        this.windows.offlineMs,
        r.host_id,
        r.hostname,
        r.underlay_ip,
        r.capabilities,
        r.drivers,
        r.mode,
        r.agent_version,
      ],
    );
    const row = rows[0]!;
    return { host: toView(row), created: row.created };
  }

  /** Records a heartbeat; returns the health before it, or undefined when the host is unknown. */
  async heartbeat(tx: SqlTx, hb: HeartbeatRequest): Promise<{ previous: HostHealth } | undefined> {
    const rows = await tx.rows<{ previous: HostHealth }>(
      `UPDATE hosts h SET last_seen_at = now(), capabilities = $2, applied = h.applied || $3::jsonb, health = 'healthy'
       FROM (SELECT id, health AS previous FROM hosts WHERE id = $1 FOR UPDATE) p
       WHERE h.id = p.id RETURNING p.previous`,
      [hb.host_id, hb.capabilities, JSON.stringify(hb.applied ?? {})],
    );
    return rows[0];
  }

  async get(id: string): Promise<HostView> {
    const rows: HostRow[] = await sqlRows(
      this.ds,
      `SELECT ${COLUMNS}, ${HEALTH_SQL} AS health FROM hosts WHERE id = $3`,
      [this.windows.healthyMs, this.windows.offlineMs, id],
    );
    if (!rows[0]) throw QnetError.notFound('host', id);
    return toView(rows[0]);
  }

  async list(req: ListHostsRequest): Promise<Page<HostView>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = [this.windows.healthyMs, this.windows.offlineMs];
    const where: string[] = [];
    const after = pageStart(req.page_token);
    if (after) where.push(`id > $${params.push(after)}`);
    if (req.hostname) where.push(`hostname ILIKE $${params.push(`%${escapeLike(req.hostname)}%`)}`);
    if (req.health) where.push(`${HEALTH_SQL} = $${params.push(req.health)}`);
    const rows: HostRow[] = await sqlRows(
      this.ds,
      `SELECT ${COLUMNS}, ${HEALTH_SQL} AS health FROM hosts
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${limit + 1}`,
      params,
    );
    return pageOf(rows, limit, toView, (v) => v.id);
  }

  async update(tx: SqlTx, req: UpdateHostRequest): Promise<HostView> {
    const rows = await tx.rows<HostRow>(
      `UPDATE hosts SET description = COALESCE($4, description), labels = COALESCE($5::jsonb, labels)
       WHERE id = $3 RETURNING ${COLUMNS}, ${HEALTH_SQL} AS health`,
      [
        this.windows.healthyMs,
        this.windows.offlineMs,
        req.host_id,
        req.description ?? null,
        req.labels ? JSON.stringify(req.labels) : null,
      ],
    );
    if (!rows[0]) throw QnetError.notFound('host', req.host_id);
    return toView(rows[0]);
  }

  /** Capabilities of the registered hosts among `ids` (absent ones are not registered). */
  async capabilities(
    ids: string[],
    tx: SqlTx = autocommit(this.ds),
  ): Promise<Map<string, Capability[]>> {
    const rows = await tx.rows<{ id: string; capabilities: Capability[] }>(
      `SELECT id, capabilities FROM hosts WHERE id = ANY($1::text[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.capabilities]));
  }

  /** Stores health transitions and returns them; safe when several registry instances sweep at once. */
  sweepHealth(tx: SqlTx): Promise<{ id: string; previous: HostHealth; health: HostHealth }[]> {
    return tx.rows(
      `UPDATE hosts h SET health = n.health
       FROM (SELECT id, health AS previous, ${HEALTH_SQL} AS health FROM hosts FOR UPDATE SKIP LOCKED) n
       WHERE h.id = n.id AND n.health <> n.previous
       RETURNING h.id, n.previous, n.health`,
      [this.windows.healthyMs, this.windows.offlineMs],
    );
  }
}

function toView(r: HostRow): HostView {
  return {
    id: r.id,
    hostname: r.hostname,
    underlay_ip: r.underlay_ip,
    capabilities: r.capabilities as HostView['capabilities'],
    drivers: r.drivers,
    mode: r.mode as HostView['mode'],
    agent_version: r.agent_version,
    description: r.description,
    labels: r.labels,
    health: r.health,
    registered_at: r.registered_at.toISOString(),
    last_seen_at: r.last_seen_at.toISOString(),
  };
}
