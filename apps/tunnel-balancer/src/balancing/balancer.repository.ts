import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ReportMetricsRequest } from '@qnet/contracts';
import { autocommit, DATA_SOURCE, type SqlTx } from '@qnet/persistence';
import { sql } from 'kysely';
import { db } from '../db/index.js';
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

/**
 * An endpoint as a round decides it: with the routers its tunnels found unreachable lately and
 * until when (ms) they are kept from it.
 */
export interface RoundEndpointRow extends EndpointRow {
  avoid_router_ids: string[];
  avoid_until_ms: number | null;
}

export interface DecisionRow extends EndpointRow {
  primary_internal_ip: string | null;
  primary_external_ip: string | null;
  primary_score: number | null;
  backup_internal_ip: string | null;
  backup_external_ip: string | null;
}

const ROUTER_COLUMNS = [
  'server_id',
  'server_name',
  'internal_ip',
  'external_ip',
  'cpu_percent',
  'memory_percent',
  'bandwidth_mbps',
  'active_tunnels',
  'score',
  'active',
] as const;

/** A timestamp column in epoch milliseconds. */
const epochMs = (column: string) =>
  sql<number>`(extract(epoch FROM ${sql.ref(column)}) * 1000)::float8`;

/** `now() - ms`, as an interval expression. */
const msAgo = (ms: number) => sql<Date>`now() - make_interval(secs => ${ms}::float8 / 1000)`;
const msFromNow = (ms: number) => msAgo(-ms);

/** Routing servers and endpoint decisions. Times come from the database's clock, shared by every instance. */
@Injectable()
export class BalancerRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  /** Records a report; returns whether the server was unknown or inactive before it (a decision may change now). */
  async recordMetrics(m: ReportMetricsRequest, score: number): Promise<{ wasActive: boolean }> {
    const [row] = await autocommit(this.ds).run(
      db
        .with('prev', (qc) =>
          qc.selectFrom('routing_servers').select('active').where('server_id', '=', m.server_id),
        )
        .insertInto('routing_servers')
        .values({
          server_id: m.server_id,
          server_name: m.server_name,
          internal_ip: m.internal_ip,
          external_ip: m.external_ip,
          cpu_percent: m.cpu_percent,
          memory_percent: m.memory_percent,
          bandwidth_mbps: m.bandwidth_mbps,
          active_tunnels: m.active_tunnels,
          total_rx_packets: m.total_rx_packets ?? 0,
          total_tx_packets: m.total_tx_packets ?? 0,
          reported_at: m.timestamp ?? null,
          score,
          last_seen_at: sql`now()`,
          active: true,
        })
        .onConflict((oc) =>
          oc.column('server_id').doUpdateSet((eb) => ({
            server_name: eb.ref('excluded.server_name'),
            internal_ip: eb.ref('excluded.internal_ip'),
            external_ip: eb.ref('excluded.external_ip'),
            cpu_percent: eb.ref('excluded.cpu_percent'),
            memory_percent: eb.ref('excluded.memory_percent'),
            bandwidth_mbps: eb.ref('excluded.bandwidth_mbps'),
            active_tunnels: eb.ref('excluded.active_tunnels'),
            total_rx_packets: eb.ref('excluded.total_rx_packets'),
            total_tx_packets: eb.ref('excluded.total_tx_packets'),
            reported_at: eb.ref('excluded.reported_at'),
            score: eb.ref('excluded.score'),
            last_seen_at: sql`now()`,
            active: true,
          })),
        )
        .returning(sql<boolean | null>`(SELECT active FROM prev)`.as('was_active')),
    );
    return { wasActive: row?.was_active === true };
  }

  /**
   * Marks silent servers inactive (and reporting ones active); returns the servers that changed.
   * Silence is counted from `since` at the earliest: routers could not report to a balancer that
   * was down, so a restart must not fail their endpoints over.
   */
  refreshActivity(
    tx: SqlTx,
    inactiveAfterMs: number,
    since: Date,
  ): Promise<{ server_id: string; active: boolean }[]> {
    return tx.run(
      db
        .updateTable('routing_servers')
        .set({ active: sql<boolean>`NOT active` })
        .where((eb) =>
          eb.or([
            eb.and([
              eb('active', '=', true),
              eb(sql`greatest(last_seen_at, ${since}::timestamptz)`, '<=', msAgo(inactiveAfterMs)),
            ]),
            eb.and([eb('active', '=', false), eb('last_seen_at', '>', msAgo(inactiveAfterMs))]),
          ]),
        )
        .returning(['server_id', 'active']),
    );
  }

  routers(tx: SqlTx): Promise<RouterRow[]> {
    return tx.run(db.selectFrom('routing_servers').select(ROUTER_COLUMNS).orderBy('server_id'));
  }

  endpoints(tx: SqlTx): Promise<RoundEndpointRow[]> {
    return tx.run(
      db
        .selectFrom('endpoints')
        .select([
          'endpoint_id',
          'primary_router_id',
          'backup_router_id',
          epochMs('changed_at').as('changed_ms'),
          'avoid_router_ids',
          sql<number | null>`(extract(epoch FROM avoid_until) * 1000)::float8`.as('avoid_until_ms'),
        ]),
    );
  }

  /** How many statements have written endpoints so far (the trigger's counter; see its migration). */
  async endpointsGeneration(tx: SqlTx): Promise<number> {
    const [row] = await tx.run(
      db.selectFrom('endpoints_generation').select(sql<number>`n::float8`.as('n')),
    );
    if (!row) throw new Error('endpoints_generation has no row');
    return row.n;
  }

  /** An endpoint's tunnels to these routers stopped answering: keep them from it for `holdMs`. */
  async avoid(endpointId: string, routerIds: string[], holdMs: number): Promise<boolean> {
    const rows = await autocommit(this.ds).run(
      db
        .updateTable('endpoints')
        .set({ avoid_router_ids: routerIds, avoid_until: msFromNow(holdMs) })
        .where('endpoint_id', '=', endpointId)
        .returning('endpoint_id'),
    );
    return rows.length > 0;
  }

  async databaseNow(): Promise<Date> {
    const [row] = await autocommit(this.ds).run(db.selectNoFrom(sql<Date>`now()`.as('now')));
    if (!row) throw new Error('SELECT now() returned no row');
    return row.now;
  }

  /** The database clock in ms: the `now` of one evaluation round. */
  async nowMs(tx: SqlTx): Promise<number> {
    const [row] = await tx.run(
      db.selectNoFrom(sql<number>`(extract(epoch FROM now()) * 1000)::float8`.as('ms')),
    );
    if (!row) throw new Error('SELECT now() returned no row');
    return row.ms;
  }

  /** Only one instance evaluates at a time; the others skip the round. Held until the transaction ends. */
  async tryEvaluatorLock(tx: SqlTx): Promise<boolean> {
    const [row] = await tx.run(
      db.selectNoFrom(
        sql<boolean>`pg_try_advisory_xact_lock(hashtext('tunnel-balancer.evaluate'))`.as('ok'),
      ),
    );
    return row?.ok === true;
  }

  async saveAssignments(tx: SqlTx, changes: { id: string; next: Assignment }[]): Promise<void> {
    if (!changes.length) return;
    const assigned = sql<{ id: string; p: string | null; b: string | null; t: number }>`unnest(
      ${changes.map((c) => c.id)}::text[], ${changes.map((c) => c.next.primary)}::text[],
      ${changes.map((c) => c.next.backup)}::text[], ${changes.map((c) => c.next.changedAt)}::float8[])`.as<'c'>(
      sql`c(id, p, b, t)`,
    );
    await tx.run(
      db
        .updateTable('endpoints as e')
        .from(assigned)
        .set((eb) => ({
          primary_router_id: eb.ref('c.p'),
          backup_router_id: eb.ref('c.b'),
          changed_at: sql`to_timestamp(c.t / 1000)`,
          version: eb('e.version', '+', '1'),
        }))
        .whereRef('e.endpoint_id', '=', 'c.id'),
    );
  }

  async addEndpoint(id: string): Promise<void> {
    await autocommit(this.ds).run(
      db
        .insertInto('endpoints')
        .values({ endpoint_id: id })
        .onConflict((oc) => oc.doNothing()),
    );
  }

  async removeEndpoint(id: string): Promise<void> {
    await autocommit(this.ds).run(db.deleteFrom('endpoints').where('endpoint_id', '=', id));
  }

  /** The decisions of these endpoints (those that exist). */
  decisions(endpointIds: string[]): Promise<DecisionRow[]> {
    return autocommit(this.ds).run(
      db
        .selectFrom('endpoints as e')
        .leftJoin('routing_servers as p', 'p.server_id', 'e.primary_router_id')
        .leftJoin('routing_servers as b', 'b.server_id', 'e.backup_router_id')
        .select([
          'e.endpoint_id',
          'e.primary_router_id',
          'e.backup_router_id',
          epochMs('e.changed_at').as('changed_ms'),
          'p.internal_ip as primary_internal_ip',
          'p.external_ip as primary_external_ip',
          'p.score as primary_score',
          'b.internal_ip as backup_internal_ip',
          'b.external_ip as backup_external_ip',
        ])
        .where('e.endpoint_id', '=', sql<string>`ANY(${endpointIds})`),
    );
  }

  async status(): Promise<{ routers: RouterRow[]; decided: number }> {
    const tx = autocommit(this.ds);
    const routers = await this.routers(tx);
    const [count] = await tx.run(
      db
        .selectFrom('endpoints')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('primary_router_id', 'is not', null),
    );
    return { routers, decided: count?.n ?? 0 };
  }

  listAssignments(
    after: string | undefined,
    limit: number,
  ): Promise<Omit<EndpointRow, 'changed_ms'>[]> {
    return autocommit(this.ds).run(
      db
        .selectFrom('endpoints')
        .select(['endpoint_id', 'primary_router_id', 'backup_router_id'])
        .$call((q) => (after ? q.where('endpoint_id', '>', after) : q))
        .orderBy('endpoint_id')
        .limit(limit),
    );
  }
}
