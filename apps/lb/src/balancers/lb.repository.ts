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
  autocommit,
  callerScope,
  DATA_SOURCE,
  inScope,
  listedProject,
  type SqlTx,
} from '@qnet/persistence';

export type LbDriver = 'lb_nft' | 'lb_ovn';

export const driverOf = (provider: LbProvider): LbDriver =>
  provider === 'ovn' ? 'lb_ovn' : 'lb_nft';

/** Where provisioning status comes from: the LB's last change against its host's progress. */
export interface HealthTransition {
  id: string;
  load_balancer_id: string;
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

const BALANCER_COLUMNS = `b.id, b.name, b.project_id, b.description, b.labels, b.network_id,
  b.network_cidr::text AS network_cidr, b.logical_switch, host(b.vip) AS vip, b.algorithm,
  b.protocol, b.provider, b.host_id, b.driver, b.generation, b.bytes_in::float8 AS bytes_in,
  b.bytes_out::float8 AS bytes_out, b.observed_at, b.created_at, b.updated_at, h.applied, h.error`;
const BALANCERS = `load_balancers b JOIN agent_drivers h ON h.host_id = b.host_id AND h.driver = b.driver`;
const MEMBER_COLUMNS = `id, load_balancer_id, host(address) AS address, port, weight,
  admin_state_up, logical_port, health, active_connections::float8 AS active_connections,
  total_connections::float8 AS total_connections`;

@Injectable()
export class LbRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async placementOf(
    id: string,
  ): Promise<{ host_id: string; driver: LbDriver; provider: LbProvider }> {
    const [row] = await autocommit(this.ds).rows<{
      host_id: string;
      driver: LbDriver;
      provider: LbProvider;
    }>(
      `SELECT host_id, driver, provider FROM load_balancers WHERE id = $1 AND ${inScope('project_id', 2)}`,
      [id, callerScope()],
    );
    if (!row) throw QnetError.notFound('load balancer', id);
    return row;
  }

  async balancer(tx: SqlTx, id: string, lock = false): Promise<BalancerRow> {
    const [row] = await tx.rows<BalancerRow>(
      `SELECT ${BALANCER_COLUMNS} FROM ${BALANCERS} WHERE b.id = $1 AND ${inScope('b.project_id', 2)}
       ${lock ? 'FOR UPDATE OF b' : ''}`,
      [id, callerScope()],
    );
    if (!row) throw QnetError.notFound('load balancer', id);
    return row;
  }

  /** The load balancers with their listeners, members and health checks, in the given order. */
  async complete(tx: SqlTx, rows: BalancerRow[]): Promise<Balancer[]> {
    const ids = rows.map((r) => r.id);
    if (!ids.length) return [];
    const listeners = await tx.rows<ListenerRow>(
      `SELECT id, load_balancer_id, name, port, protocol FROM lb_listeners
       WHERE load_balancer_id = ANY($1) ORDER BY port, protocol`,
      [ids],
    );
    const members = await tx.rows<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM lb_members WHERE load_balancer_id = ANY($1)
       ORDER BY address, port`,
      [ids],
    );
    const checks = await tx.rows<HealthCheckRow>(
      `SELECT * FROM lb_health_checks WHERE load_balancer_id = ANY($1)`,
      [ids],
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
    return b!;
  }

  async onHost(tx: SqlTx, hostId: string, driver: LbDriver): Promise<Balancer[]> {
    const rows = await tx.rows<BalancerRow>(
      `SELECT ${BALANCER_COLUMNS} FROM ${BALANCERS} WHERE b.host_id = $1 AND b.driver = $2
       ORDER BY b.id`,
      [hostId, driver],
    );
    return this.complete(tx, rows);
  }

  async list(req: ListLoadBalancersRequest): Promise<Page<Balancer>> {
    const tx = autocommit(this.ds);
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const rows = await tx.rows<BalancerRow>(
      `SELECT ${BALANCER_COLUMNS} FROM ${BALANCERS}
       WHERE ($1::uuid IS NULL OR b.id > $1) AND ($2::text IS NULL OR b.project_id = $2)
         AND ($3::uuid IS NULL OR b.network_id = $3) AND ($4::text IS NULL OR b.name = $4)
         AND ($5::text IS NULL OR b.host_id = $5) AND ($6::text IS NULL OR b.provider = $6)
       ORDER BY b.id LIMIT $7`,
      [
        pageStart(req.page_token) ?? null,
        listedProject(req.project_id),
        req.network_id ?? null,
        req.name ?? null,
        req.host_id ?? null,
        req.provider ?? null,
        limit + 1,
      ],
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
    const rows = await autocommit(this.ds).rows<{ id: string }>(
      `SELECT id FROM load_balancers WHERE host_id = ANY($1) ORDER BY id`,
      [hostIds],
    );
    return rows.map((r) => r.id);
  }

  async hostsInUse(): Promise<string[]> {
    const rows = await autocommit(this.ds).rows<{ host_id: string }>(
      `SELECT DISTINCT host_id FROM load_balancers`,
    );
    return rows.map((r) => r.host_id);
  }

  async countsOn(hostIds: string[]): Promise<Map<string, number>> {
    const rows = await autocommit(this.ds).rows<{ host_id: string; n: number }>(
      `SELECT host_id, count(*)::int AS n FROM load_balancers WHERE host_id = ANY($1) GROUP BY host_id`,
      [hostIds],
    );
    return new Map(rows.map((r) => [r.host_id, r.n]));
  }

  async insertBalancer(tx: SqlTx, b: NewBalancer, generation: number): Promise<void> {
    await tx.rows(
      `INSERT INTO load_balancers (id, name, project_id, description, labels, network_id,
         network_cidr, logical_switch, vip, algorithm, protocol, provider, host_id, driver, generation)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        b.id,
        b.name,
        b.project_id,
        b.description,
        JSON.stringify(b.labels),
        b.network_id,
        b.network_cidr,
        b.logical_switch,
        b.vip,
        b.algorithm,
        b.protocol,
        b.provider,
        b.host_id,
        b.driver,
        generation,
      ],
    );
  }

  /** Records that the LB changed in `generation` (pending until its host applied it). */
  async touch(tx: SqlTx, id: string, generation: number): Promise<void> {
    await tx.rows(`UPDATE load_balancers SET generation = $2, updated_at = now() WHERE id = $1`, [
      id,
      generation,
    ]);
  }

  async update(
    tx: SqlTx,
    id: string,
    fields: Partial<Pick<BalancerRow, 'name' | 'description' | 'algorithm' | 'host_id'>>,
  ): Promise<void> {
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    if (!entries.length) return;
    const sets = entries.map(([k], i) => `${k} = $${i + 2}`).join(', ');
    await tx.rows(`UPDATE load_balancers SET ${sets} WHERE id = $1`, [
      id,
      ...entries.map(([, v]) => v),
    ]);
  }

  async deleteBalancer(tx: SqlTx, id: string): Promise<void> {
    await tx.rows(`DELETE FROM load_balancers WHERE id = $1`, [id]);
  }

  async insertListener(tx: SqlTx, l: ListenerRow): Promise<void> {
    await tx.rows(
      `INSERT INTO lb_listeners (id, load_balancer_id, name, port, protocol) VALUES ($1, $2, $3, $4, $5)`,
      [l.id, l.load_balancer_id, l.name, l.port, l.protocol],
    );
  }

  async deleteListener(tx: SqlTx, lbId: string, id: string): Promise<ListenerRow> {
    const [row] = await tx.rows<ListenerRow>(
      `DELETE FROM lb_listeners WHERE id = $1 AND load_balancer_id = $2
       RETURNING id, load_balancer_id, name, port, protocol`,
      [id, lbId],
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
    await tx.rows(
      `INSERT INTO lb_members (id, load_balancer_id, address, port, weight, admin_state_up, logical_port)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [m.id, m.load_balancer_id, m.address, m.port, m.weight, m.admin_state_up, m.logical_port],
    );
  }

  async member(tx: SqlTx, lbId: string, id: string): Promise<MemberRow> {
    const [row] = await tx.rows<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM lb_members WHERE id = $1 AND load_balancer_id = $2`,
      [id, lbId],
    );
    if (!row) throw QnetError.notFound('member', id);
    return row;
  }

  async updateMember(
    tx: SqlTx,
    id: string,
    fields: { weight?: number; admin_state_up?: boolean },
  ): Promise<void> {
    await tx.rows(
      `UPDATE lb_members SET weight = coalesce($2, weight),
         admin_state_up = coalesce($3, admin_state_up) WHERE id = $1`,
      [id, fields.weight ?? null, fields.admin_state_up ?? null],
    );
  }

  async deleteMember(tx: SqlTx, lbId: string, id: string): Promise<MemberRow> {
    const m = await this.member(tx, lbId, id);
    await tx.rows(`DELETE FROM lb_members WHERE id = $1`, [id]);
    return m;
  }

  async setHealthCheck(tx: SqlTx, lbId: string, hc: HealthCheckView | undefined): Promise<void> {
    await tx.rows(`DELETE FROM lb_health_checks WHERE load_balancer_id = $1`, [lbId]);
    // A new monitor starts from scratch: nothing is known about the members until it checks them.
    await tx.rows(`UPDATE lb_members SET health = 'UNKNOWN' WHERE load_balancer_id = $1`, [lbId]);
    if (!hc) return;
    await tx.rows(
      `INSERT INTO lb_health_checks (load_balancer_id, protocol, port, interval_sec, timeout_sec,
         unhealthy_threshold, healthy_threshold) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        lbId,
        hc.protocol,
        hc.port,
        hc.interval_sec,
        hc.timeout_sec,
        hc.unhealthy_threshold,
        hc.healthy_threshold,
      ],
    );
  }

  /** Traffic counters an agent observed, for the LBs this host (still) realizes. */
  async recordTraffic(tx: SqlTx, hostId: string, balancers: LbObservedBalancer[]) {
    await tx.rows(
      `UPDATE load_balancers b SET bytes_in = o.bytes_in, bytes_out = o.bytes_out, observed_at = now()
       FROM unnest($2::uuid[], $3::bigint[], $4::bigint[]) AS o(id, bytes_in, bytes_out)
       WHERE b.id = o.id AND b.host_id = $1`,
      [
        hostId,
        balancers.map((b) => b.id),
        balancers.map((b) => b.bytes_in),
        balancers.map((b) => b.bytes_out),
      ],
    );
  }

  /** Members' observed health and connections; returns each one's health before and after. */
  recordMemberHealth(
    tx: SqlTx,
    hostId: string,
    members: LbObservedMember[],
  ): Promise<HealthTransition[]> {
    return tx.rows<HealthTransition>(
      `WITH o AS (
         SELECT * FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::bigint[])
           AS o(id, health, active, total)
       ), old AS (
         SELECT m.id, m.health FROM lb_members m JOIN o USING (id)
         JOIN load_balancers b ON b.id = m.load_balancer_id AND b.host_id = $1
         FOR UPDATE OF m
       )
       UPDATE lb_members m SET health = o.health, active_connections = o.active,
         total_connections = o.total
       FROM o, old WHERE m.id = o.id AND old.id = o.id
       RETURNING m.id, m.load_balancer_id, host(m.address) AS address, m.port,
         old.health AS "from", m.health AS "to"`,
      [
        hostId,
        members.map((m) => m.id),
        members.map((m) => m.health),
        members.map((m) => m.active_connections),
        members.map((m) => m.total_connections),
      ],
    );
  }
}
