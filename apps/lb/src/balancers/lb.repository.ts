import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  DEFAULT_PAGE_SIZE,
  pageOf,
  pageStart,
  QnetError,
  type HealthCheckView,
  type LbAlgorithm,
  type LbProtocol,
  type LbProvider,
  type ListLoadBalancersRequest,
  type LbObservedBalancer,
  type LbObservedMember,
  type MemberHealth,
  type Page,
} from '@qnet/contracts';
import {
  anyOf,
  asText,
  autocommit,
  DATA_SOURCE,
  hostText,
  inCallerScope,
  listedProject,
  type SqlTx,
} from '@qnet/persistence';
import { sql } from 'kysely';
import { db } from '../db/index.js';

export type LbDriver = 'lb_nft' | 'lb_ovn';

export const driverOf = (provider: LbProvider): LbDriver =>
  provider === 'ovn' ? 'lb_ovn' : 'lb_nft';

/** Where provisioning status comes from: the LB's last change against its host's progress. */
export interface HealthTransition {
  id: string;
  load_balancer_id: string;
  project_id: string;
  address: string;
  port: number;
  from: MemberHealth;
  to: MemberHealth;
}

export interface HostProgress {
  generation: string;
  applied: string;
  error: string | null;
}

export interface BalancerRow extends HostProgress {
  id: string;
  name: string;
  project_id: string;
  description: string;
  labels: Record<string, string>;
  network_id: string;
  network_cidr: string;
  logical_switch: string;
  vip: string;
  algorithm: LbAlgorithm;
  protocol: LbProtocol;
  provider: LbProvider;
  host_id: string;
  driver: LbDriver;
  bytes_in: number;
  bytes_out: number;
  observed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface ListenerRow {
  id: string;
  load_balancer_id: string;
  name: string;
  port: number;
  protocol: LbProtocol;
}

export interface MemberRow {
  id: string;
  load_balancer_id: string;
  address: string;
  port: number;
  weight: number;
  admin_state_up: boolean;
  logical_port: string;
  health: MemberHealth;
  active_connections: number;
  total_connections: number;
}

export type HealthCheckRow = HealthCheckView & { load_balancer_id: string };

/** A load balancer with everything under it. */
export interface Balancer {
  lb: BalancerRow;
  listeners: ListenerRow[];
  members: MemberRow[];
  health_check: HealthCheckRow | undefined;
}

export type NewBalancer = Omit<
  BalancerRow,
  keyof HostProgress | 'bytes_in' | 'bytes_out' | 'observed_at' | 'created_at' | 'updated_at'
>;

const BALANCER_COLUMNS = [
  'b.id',
  'b.name',
  'b.project_id',
  'b.description',
  'b.labels',
  'b.network_id',
  asText('b.network_cidr').as('network_cidr'),
  'b.logical_switch',
  hostText('b.vip').as('vip'),
  'b.algorithm',
  'b.protocol',
  'b.provider',
  'b.host_id',
  'b.driver',
  'b.generation',
  sql<number>`b.bytes_in::float8`.as('bytes_in'),
  sql<number>`b.bytes_out::float8`.as('bytes_out'),
  'b.observed_at',
  'b.created_at',
  'b.updated_at',
  'h.applied',
  'h.error',
] as const;

/** Load balancers with their host's progress (the agent_drivers row of their host and driver). */
const balancers = () =>
  db
    .selectFrom('load_balancers as b')
    .innerJoin('agent_drivers as h', (j) =>
      j.onRef('h.host_id', '=', 'b.host_id').onRef('h.driver', '=', 'b.driver'),
    )
    .select(BALANCER_COLUMNS);

const MEMBER_COLUMNS = [
  'id',
  'load_balancer_id',
  hostText('address').as('address'),
  'port',
  'weight',
  'admin_state_up',
  'logical_port',
  'health',
  sql<number>`active_connections::float8`.as('active_connections'),
  sql<number>`total_connections::float8`.as('total_connections'),
] as const;

const LISTENER_COLUMNS = ['id', 'load_balancer_id', 'name', 'port', 'protocol'] as const;

@Injectable()
export class LbRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async placementOf(
    id: string,
  ): Promise<{ host_id: string; driver: LbDriver; provider: LbProvider; network_id: string }> {
    const [row] = await autocommit(this.ds).run(
      db
        .selectFrom('load_balancers')
        .select(['host_id', 'driver', 'provider', 'network_id'])
        .where('id', '=', id)
        .where(inCallerScope('project_id')),
    );
    if (!row) throw QnetError.notFound('load balancer', id);
    return row;
  }

  async balancer(tx: SqlTx, id: string, lock = false): Promise<BalancerRow> {
    const [row] = await tx.run(
      balancers()
        .where('b.id', '=', id)
        .where(inCallerScope('b.project_id'))
        .$call((q) => (lock ? q.forUpdate(['b']) : q)),
    );
    if (!row) throw QnetError.notFound('load balancer', id);
    return row;
  }

  /** The load balancers with their listeners, members and health checks, in the given order. */
  async complete(tx: SqlTx, rows: BalancerRow[]): Promise<Balancer[]> {
    const ids = rows.map((r) => r.id);
    if (!ids.length) return [];
    const listeners = await tx.run(
      db
        .selectFrom('lb_listeners')
        .select(LISTENER_COLUMNS)
        .where('load_balancer_id', '=', anyOf(ids))
        .orderBy('port')
        .orderBy('protocol'),
    );
    const members = await tx.run(
      db
        .selectFrom('lb_members')
        .select(MEMBER_COLUMNS)
        .where('load_balancer_id', '=', anyOf(ids))
        .orderBy('lb_members.address')
        .orderBy('port'),
    );
    const checks = await tx.run(
      db.selectFrom('lb_health_checks').selectAll().where('load_balancer_id', '=', anyOf(ids)),
    );
    return rows.map((lb) => ({
      lb,
      listeners: listeners.filter((l) => l.load_balancer_id === lb.id),
      members: members.filter((m) => m.load_balancer_id === lb.id),
      health_check: checks.find((c) => c.load_balancer_id === lb.id),
    }));
  }

  async full(tx: SqlTx, id: string): Promise<Balancer> {
    const [b] = await this.complete(tx, [await this.balancer(tx, id)]);
    if (!b) throw QnetError.notFound('load balancer', id);
    return b;
  }

  async onHost(tx: SqlTx, hostId: string, driver: LbDriver): Promise<Balancer[]> {
    const rows = await tx.run(
      balancers().where('b.host_id', '=', hostId).where('b.driver', '=', driver).orderBy('b.id'),
    );
    return this.complete(tx, rows);
  }

  async list(req: ListLoadBalancersRequest): Promise<Page<Balancer>> {
    const tx = autocommit(this.ds);
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const after = pageStart(req.page_token);
    const project = listedProject(req.project_id);
    const rows = await tx.run(
      balancers()
        .$call((q) => (after ? q.where('b.id', '>', after) : q))
        .$call((q) => (project ? q.where('b.project_id', '=', project) : q))
        .$call((q) => (req.network_id ? q.where('b.network_id', '=', req.network_id) : q))
        .$call((q) => (req.name ? q.where('b.name', '=', req.name) : q))
        .$call((q) => (req.host_id ? q.where('b.host_id', '=', req.host_id) : q))
        .$call((q) => (req.provider ? q.where('b.provider', '=', req.provider) : q))
        .orderBy('b.id')
        .limit(limit + 1),
    );
    const page = pageOf(
      rows,
      limit,
      (r) => r,
      (r) => r.id,
    );
    return { items: await this.complete(tx, page.items), next_page_token: page.next_page_token };
  }

  /** Load balancers whose host is one of `hostIds` (for failover). */
  async idsOnHosts(hostIds: string[]): Promise<string[]> {
    const rows = await autocommit(this.ds).run(
      db
        .selectFrom('load_balancers')
        .select('id')
        .where('host_id', '=', anyOf(hostIds))
        .orderBy('id'),
    );
    return rows.map((r) => r.id);
  }

  async hostsInUse(): Promise<string[]> {
    const rows = await autocommit(this.ds).run(
      db.selectFrom('load_balancers').select('host_id').distinct(),
    );
    return rows.map((r) => r.host_id);
  }

  async countsOn(hostIds: string[]): Promise<Map<string, number>> {
    const rows = await autocommit(this.ds).run(
      db
        .selectFrom('load_balancers')
        .select(['host_id', sql<number>`count(*)::int`.as('n')])
        .where('host_id', '=', anyOf(hostIds))
        .groupBy('host_id'),
    );
    return new Map(rows.map((r) => [r.host_id, r.n]));
  }

  async insertBalancer(tx: SqlTx, b: NewBalancer, generation: number): Promise<void> {
    await tx.run(db.insertInto('load_balancers').values({ ...b, generation }));
  }

  /** Records that the LB changed in `generation` (pending until its host applied it). */
  async touch(tx: SqlTx, id: string, generation: number): Promise<void> {
    await tx.run(
      db
        .updateTable('load_balancers')
        .set({ generation, updated_at: sql`now()` })
        .where('id', '=', id),
    );
  }

  async update(
    tx: SqlTx,
    id: string,
    fields: Partial<Pick<BalancerRow, 'name' | 'description' | 'algorithm' | 'host_id'>>,
  ): Promise<void> {
    // Kysely leaves undefined fields out; with none left there is nothing to update.
    if (!Object.values(fields).some((v) => v !== undefined)) return;
    await tx.run(db.updateTable('load_balancers').set(fields).where('id', '=', id));
  }

  async deleteBalancer(tx: SqlTx, id: string): Promise<void> {
    await tx.run(db.deleteFrom('load_balancers').where('id', '=', id));
  }

  async insertListener(tx: SqlTx, l: ListenerRow): Promise<void> {
    await tx.run(db.insertInto('lb_listeners').values(l));
  }

  async deleteListener(tx: SqlTx, lbId: string, id: string): Promise<ListenerRow> {
    const [row] = await tx.run(
      db
        .deleteFrom('lb_listeners')
        .where('id', '=', id)
        .where('load_balancer_id', '=', lbId)
        .returning(LISTENER_COLUMNS),
    );
    if (!row) throw QnetError.notFound('listener', id);
    return row;
  }

  async insertMember(
    tx: SqlTx,
    m: Pick<
      MemberRow,
      'id' | 'load_balancer_id' | 'address' | 'port' | 'weight' | 'admin_state_up' | 'logical_port'
    >,
  ): Promise<void> {
    await tx.run(db.insertInto('lb_members').values(m));
  }

  async member(tx: SqlTx, lbId: string, id: string): Promise<MemberRow> {
    const [row] = await tx.run(
      db
        .selectFrom('lb_members')
        .select(MEMBER_COLUMNS)
        .where('id', '=', id)
        .where('load_balancer_id', '=', lbId),
    );
    if (!row) throw QnetError.notFound('member', id);
    return row;
  }

  async updateMember(
    tx: SqlTx,
    id: string,
    fields: { weight?: number; admin_state_up?: boolean },
  ): Promise<void> {
    await tx.run(
      db
        .updateTable('lb_members')
        .set((eb) => ({
          weight: fields.weight ?? eb.ref('weight'),
          admin_state_up: fields.admin_state_up ?? eb.ref('admin_state_up'),
        }))
        .where('id', '=', id),
    );
  }

  async deleteMember(tx: SqlTx, lbId: string, id: string): Promise<MemberRow> {
    const m = await this.member(tx, lbId, id);
    await tx.run(db.deleteFrom('lb_members').where('id', '=', id));
    return m;
  }

  async setHealthCheck(tx: SqlTx, lbId: string, hc: HealthCheckView | undefined): Promise<void> {
    await tx.run(db.deleteFrom('lb_health_checks').where('load_balancer_id', '=', lbId));
    // A new monitor starts from scratch: nothing is known about the members until it checks them.
    await tx.run(
      db.updateTable('lb_members').set({ health: 'UNKNOWN' }).where('load_balancer_id', '=', lbId),
    );
    if (!hc) return;
    await tx.run(
      db.insertInto('lb_health_checks').values({
        load_balancer_id: lbId,
        protocol: hc.protocol,
        port: hc.port,
        interval_sec: hc.interval_sec,
        timeout_sec: hc.timeout_sec,
        unhealthy_threshold: hc.unhealthy_threshold,
        healthy_threshold: hc.healthy_threshold,
      }),
    );
  }

  /** Traffic counters an agent observed, for the LBs this host (still) realizes. */
  async recordTraffic(tx: SqlTx, hostId: string, balancers: LbObservedBalancer[]) {
    const observed = sql<{ id: string; bytes_in: string; bytes_out: string }>`unnest(
      ${balancers.map((b) => b.id)}::uuid[], ${balancers.map((b) => b.bytes_in)}::bigint[],
      ${balancers.map((b) => b.bytes_out)}::bigint[])`.as<'o'>(sql`o(id, bytes_in, bytes_out)`);
    await tx.run(
      db
        .updateTable('load_balancers as b')
        .from(observed)
        .set((eb) => ({
          bytes_in: eb.ref('o.bytes_in'),
          bytes_out: eb.ref('o.bytes_out'),
          observed_at: sql`now()`,
        }))
        .whereRef('b.id', '=', 'o.id')
        .where('b.host_id', '=', hostId),
    );
  }

  /** Members' observed health and connections; returns each one's health before and after. */
  recordMemberHealth(
    tx: SqlTx,
    hostId: string,
    members: LbObservedMember[],
  ): Promise<HealthTransition[]> {
    const observed = sql<{
      id: string;
      health: MemberHealth;
      active: string;
      total: string;
    }>`unnest(
      ${members.map((m) => m.id)}::uuid[], ${members.map((m) => m.health)}::text[],
      ${members.map((m) => m.active_connections)}::bigint[],
      ${members.map((m) => m.total_connections)}::bigint[])`.as<'o'>(
      sql`o(id, health, active, total)`,
    );
    return tx.run(
      db
        .with('o', () => db.selectFrom(observed).selectAll())
        .with('old', (qc) =>
          qc
            .selectFrom('lb_members as m')
            .innerJoin('o', 'o.id', 'm.id')
            .innerJoin('load_balancers as b', (j) =>
              j.onRef('b.id', '=', 'm.load_balancer_id').on('b.host_id', '=', hostId),
            )
            .select(['m.id', 'm.health', 'b.project_id'])
            .forUpdate(['m']),
        )
        .updateTable('lb_members as m')
        .from(['o', 'old'])
        .set((eb) => ({
          health: eb.ref('o.health'),
          active_connections: eb.ref('o.active'),
          total_connections: eb.ref('o.total'),
        }))
        .whereRef('m.id', '=', 'o.id')
        .whereRef('old.id', '=', 'o.id')
        .returning([
          'm.id',
          'm.load_balancer_id',
          hostText('m.address').as('address'),
          'm.port',
          'old.health as from',
          'm.health as to',
          'old.project_id',
        ]),
    );
  }
}
