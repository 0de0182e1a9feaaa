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
import { anyOf, autocommit, DATA_SOURCE, hostText, isoTime, type SqlTx } from '@qnet/persistence';
import { sql } from 'kysely';
import type { HealthWindows } from './health.js';
import { db } from '../db/index.js';
import { healthOf } from '../db/health.js';
import { HEALTH_WINDOWS } from './tokens.js';
import { escapeLike } from '../sql.js';

const COLUMNS = [
  'id',
  'hostname',
  hostText('underlay_ip').as('underlay_ip'),
  'capabilities',
  'interfaces',
  'drivers',
  'mode',
  'agent_version',
  'description',
  'labels',
  sql<Record<string, number>>`applied`.as('applied'),
  isoTime('registered_at').as('registered_at'),
  isoTime('last_seen_at').as('last_seen_at'),
] as const;

/** All host state changes are single SQL statements: concurrent agents and instances cannot race. */
@Injectable()
export class HostRepository {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(HEALTH_WINDOWS) private readonly windows: HealthWindows,
  ) {}

  /** Insert or refresh; `created` tells a first registration (or one after the registry lost the host). */
  async register(tx: SqlTx, r: RegisterHostRequest): Promise<{ host: HostView; created: boolean }> {
    const [row] = await tx.run(
      db
        .insertInto('hosts')
        .values({
          id: r.host_id,
          hostname: r.hostname,
          underlay_ip: r.underlay_ip,
          capabilities: r.capabilities,
          interfaces: r.interfaces ?? null,
          drivers: r.drivers,
          mode: r.mode,
          agent_version: r.agent_version,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            hostname: eb.ref('excluded.hostname'),
            underlay_ip: eb.ref('excluded.underlay_ip'),
            capabilities: eb.ref('excluded.capabilities'),
            interfaces: eb.ref('excluded.interfaces'),
            drivers: eb.ref('excluded.drivers'),
            mode: eb.ref('excluded.mode'),
            agent_version: eb.ref('excluded.agent_version'),
            last_seen_at: sql`now()`,
            health: 'healthy',
          })),
        )
        .returning([
          ...COLUMNS,
          healthOf(this.windows).as('health'),
          sql<boolean>`(xmax = 0)`.as('created'),
        ]),
    );
    if (!row) throw new Error('INSERT … ON CONFLICT DO UPDATE returned no row');
    const { created, ...host } = row;
    return { host, created };
  }

  /** Records a heartbeat; returns the health before it, or undefined when the host is unknown. */
  async heartbeat(tx: SqlTx, hb: HeartbeatRequest): Promise<{ previous: HostHealth } | undefined> {
    const [row] = await tx.run(
      db
        .updateTable('hosts as h')
        .from(
          db
            .selectFrom('hosts')
            .select(['id', 'health as previous'])
            .where('id', '=', hb.host_id)
            .forUpdate()
            .as('p'),
        )
        .set({
          last_seen_at: sql`now()`,
          capabilities: hb.capabilities,
          interfaces: hb.interfaces ?? null,
          applied: sql`h.applied || ${JSON.stringify(hb.applied ?? {})}::jsonb`,
          health: 'healthy',
        })
        .whereRef('h.id', '=', 'p.id')
        .returning('p.previous'),
    );
    return row;
  }

  async get(id: string): Promise<HostView> {
    const [row] = await autocommit(this.ds).run(
      db
        .selectFrom('hosts')
        .select([...COLUMNS, healthOf(this.windows).as('health')])
        .where('id', '=', id),
    );
    if (!row) throw QnetError.notFound('host', id);
    return row;
  }

  async list(req: ListHostsRequest): Promise<Page<HostView>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const after = pageStart(req.page_token);
    const health = healthOf(this.windows);
    const rows = await autocommit(this.ds).run(
      db
        .selectFrom('hosts')
        .select([...COLUMNS, health.as('health')])
        .$call((q) => (after ? q.where('id', '>', after) : q))
        .$call((q) =>
          req.hostname ? q.where('hostname', 'ilike', `%${escapeLike(req.hostname)}%`) : q,
        )
        .$call((q) => (req.health ? q.where(health, '=', req.health) : q))
        .orderBy('id')
        .limit(limit + 1),
    );
    return pageOf(
      rows,
      limit,
      (r) => r,
      (v) => v.id,
    );
  }

  /** The UPDATE of a host's description and labels, returning its view (no row: no such host). */
  update(req: UpdateHostRequest) {
    return db
      .updateTable('hosts')
      .set((eb) => ({
        description: req.description ?? eb.ref('description'),
        labels: req.labels ?? eb.ref('labels'),
      }))
      .where('id', '=', req.host_id)
      .returning([...COLUMNS, healthOf(this.windows).as('health')]);
  }

  /** Capabilities of the registered hosts among `ids` (absent ones are not registered). */
  async capabilities(
    ids: string[],
    tx: SqlTx = autocommit(this.ds),
  ): Promise<Map<string, Capability[]>> {
    const rows = await tx.run(
      db.selectFrom('hosts').select(['id', 'capabilities']).where('id', '=', anyOf(ids)),
    );
    return new Map(rows.map((r) => [r.id, r.capabilities]));
  }

  /** The interfaces a host last reported as possible uplinks; null when unknown or unregistered. */
  async interfaces(id: string, tx: SqlTx = autocommit(this.ds)): Promise<string[] | null> {
    const [row] = await tx.run(db.selectFrom('hosts').select('interfaces').where('id', '=', id));
    return row?.interfaces ?? null;
  }

  /** Stores health transitions and returns them; safe when several registry instances sweep at once. */
  sweepHealth(tx: SqlTx): Promise<{ id: string; previous: HostHealth; health: HostHealth }[]> {
    return tx.run(
      db
        .updateTable('hosts as h')
        .from(
          db
            .selectFrom('hosts')
            .select(['id', 'health as previous', healthOf(this.windows).as('health')])
            .forUpdate()
            .skipLocked()
            .as('n'),
        )
        .set((eb) => ({ health: eb.ref('n.health') }))
        .whereRef('h.id', '=', 'n.id')
        .whereRef('n.health', '<>', 'n.previous')
        .returning(['h.id', 'n.previous', 'n.health']),
    );
  }
}
