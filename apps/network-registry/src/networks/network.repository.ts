import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  pageOf,
  pageStart,
  DEFAULT_PAGE_SIZE,
  QnetError,
  type ListNetworksRequest,
  type NetworkMode,
  type StaticRoute,
  type NetworkType,
  type NetworkView,
  type OperatingStatus,
  type Page,
  type ProvisioningStatus,
} from '@qnet/contracts';
import {
  asText,
  autocommit,
  DATA_SOURCE,
  hostText,
  inCallerScope,
  listedProject,
  type SqlTx,
} from '@qnet/persistence';
import { sql } from 'kysely';
import type { HealthWindows } from '../hosts/health.js';
import { db } from '../db/index.js';
import { healthOf } from '../db/health.js';
import { HEALTH_WINDOWS } from '../hosts/tokens.js';
import { DNS_DOMAIN, dnsDomainOf } from '../dns.js';
import { escapeLike } from '../sql.js';

/** A network row as the registry works with it internally. */
export type NetworkRow = Omit<
  NetworkView,
  | 'host_ids'
  | 'vm_count'
  | 'provisioning_status'
  | 'operating_status'
  | 'created_at'
  | 'updated_at'
  | 'dns_domain'
> & {
  created_at: Date;
  updated_at: Date;
};

export interface NewNetwork {
  name: string;
  description: string;
  type: NetworkType;
  mode: NetworkMode;
  uplink_interface: string | null;
  dhcp: boolean;
  dns_servers: string[];
  static_routes: StaticRoute[];
  vlan_id: number | null;
  vni: number | null;
  bridge_name: string | null;
  host_id: string | null;
  cidr: string | null;
  gateway: string | null;
  reserved_ranges: string[];
  mtu: number;
  project_id: string;
  labels: Record<string, string>;
}

export interface NetworkUpdate {
  name?: string;
  description?: string;
  mode: NetworkMode;
  dhcp?: boolean;
  dns_servers?: string[];
  static_routes?: StaticRoute[];
  cidr: string | null;
  gateway: string | null;
  mtu?: number;
  labels?: Record<string, string>;
  reserved_ranges: string[];
}

/** A network's columns as the registry reads them (unqualified: every statement has one networks). */
const COLUMNS = [
  'id',
  'name',
  'description',
  'type',
  'mode',
  'uplink_interface',
  'dhcp',
  sql<string[]>`array(SELECT host(a) FROM unnest(dns_servers) a)`.as('dns_servers'),
  sql<StaticRoute[]>`static_routes`.as('static_routes'),
  'vlan_id',
  'vni',
  'bridge_name',
  'host_id',
  asText<string | null>('cidr').as('cidr'),
  hostText<string | null>('gateway').as('gateway'),
  'reserved_ranges',
  'mtu',
  'project_id',
  'labels',
  'created_at',
  'updated_at',
] as const;

/** The lowest VNI no network holds. */
const FREE_VNI = sql<number>`(SELECT min(c) FROM (SELECT 1 AS c UNION ALL SELECT vni + 1 FROM networks WHERE vni IS NOT NULL) f
  WHERE c <= 16777215 AND NOT EXISTS (SELECT 1 FROM networks x WHERE x.vni = f.c))`;

/** Networks with their hosts and how far those are (health; applied desired state). */
function view(w: HealthWindows) {
  return db
    .selectFrom('networks as n')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('network_hosts as nh')
          .leftJoin('hosts as h', 'h.id', 'nh.host_id')
          .leftJoin('agent_drivers as d', (j) =>
            j.onRef('d.host_id', '=', 'nh.host_id').on('d.driver', '=', 'linux'),
          )
          .select([
            sql<string[]>`array_agg(nh.host_id ORDER BY nh.host_id)`.as('host_ids'),
            sql<number>`count(*)::int`.as('total'),
            sql<number>`count(h.id) FILTER (WHERE ${healthOf(w, 'h.last_seen_at')} = 'healthy')::int`.as(
              'healthy',
            ),
            sql<number>`count(*) FILTER (WHERE h.id IS NULL OR d.applied IS NULL OR d.applied < d.generation)::int`.as(
              'behind',
            ),
            sql<number>`count(d.error)::int`.as('failed'),
          ])
          .whereRef('nh.network_id', '=', 'n.id')
          .as('s'),
      (join) => join.onTrue(),
    )
    .select([
      ...COLUMNS,
      // One aggregate row per network, so only an empty array_agg needs its default.
      sql<string[]>`coalesce(s.host_ids, '{}')`.as('host_ids'),
      sql<number>`s.total`.as('total'),
      sql<number>`s.healthy`.as('healthy'),
      sql<number>`s.behind`.as('behind'),
      sql<number>`s.failed`.as('failed'),
      // The distinct VMs as the index (network_id, vm_id) gives them, already unique in order.
      sql<number>`(SELECT count(*)::int FROM (SELECT DISTINCT x.vm_id FROM nics x WHERE x.network_id = n.id) v)`.as(
        'vm_count',
      ),
    ]);
}

type ViewRow = NetworkRow & {
  host_ids: string[];
  vm_count: number;
  total: number;
  healthy: number;
  behind: number;
  failed: number;
};

@Injectable()
export class NetworkRepository {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(HEALTH_WINDOWS) private readonly windows: HealthWindows,
    @Inject(DNS_DOMAIN) private readonly dnsDomain: string,
  ) {}

  async get(id: string, tx: SqlTx = autocommit(this.ds)): Promise<NetworkView> {
    const [row] = await tx.run(
      view(this.windows).where('n.id', '=', id).where(inCallerScope('n.project_id')),
    );
    if (!row) throw QnetError.notFound('network', id);
    return toView(row, this.dnsDomain);
  }

  async list(req: ListNetworksRequest): Promise<Page<NetworkView>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const after = pageStart(req.page_token);
    const project = listedProject(req.project_id);
    const rows = await autocommit(this.ds).run(
      view(this.windows)
        .$call((q) => (after ? q.where('n.id', '>', after) : q))
        .$call((q) => (req.type ? q.where('n.type', '=', req.type) : q))
        .$call((q) => (req.bridge_name ? q.where('n.bridge_name', '=', req.bridge_name) : q))
        .$call((q) => (project ? q.where('n.project_id', '=', project) : q))
        .$call((q) => (req.name ? q.where('n.name', 'ilike', `%${escapeLike(req.name)}%`) : q))
        .$call((q) => {
          const host = req.host_id;
          if (!host) return q;
          return q.where((eb) =>
            eb.or([
              eb('n.host_id', '=', host),
              eb.exists(
                eb
                  .selectFrom('network_hosts as x')
                  .select(sql.lit(1).as('one'))
                  .whereRef('x.network_id', '=', 'n.id')
                  .where('x.host_id', '=', host),
              ),
            ]),
          );
        })
        .orderBy('n.id')
        .limit(limit + 1),
    );
    return pageOf(
      rows,
      limit,
      (r) => toView(r, this.dnsDomain),
      (v) => v.id,
    );
  }

  /** Locks the network for the rest of the transaction: address allocation and deletes queue here. */
  async lock(tx: SqlTx, id: string): Promise<NetworkRow> {
    const [row] = await tx.run(
      db
        .selectFrom('networks')
        .select(COLUMNS)
        .where('id', '=', id)
        .where(inCallerScope('project_id'))
        .forUpdate(),
    );
    if (!row) throw QnetError.notFound('network', id);
    return row;
  }

  /** Inserts a network; an overlay without a VNI gets the lowest free one, its bridge `qbr<vni>`. */
  async insert(tx: SqlTx, n: NewNetwork): Promise<NetworkRow> {
    // Both uses of FREE_VNI see the statement's one snapshot: the same number.
    const vni = n.type !== 'overlay' ? null : (n.vni ?? FREE_VNI);
    const [row] = await tx.run(
      db
        .insertInto('networks')
        .values({
          ...n,
          dns_servers: sql<string[]>`${n.dns_servers}::inet[]`,
          static_routes: JSON.stringify(n.static_routes),
          vni,
          bridge_name: n.bridge_name ?? sql<string>`'qbr' || ${vni}`,
        })
        .returning(COLUMNS),
    );
    if (!row) throw new Error('INSERT returned no row');
    return row;
  }

  /**
   * The host's network on a bridge (and VLAN), registered in the caller's project if there is none:
   * one statement, so concurrent attaches agree on one row (API 003's auto-registration without its
   * race). A bridge another project's network holds is not this caller's to attach to (409).
   */
  async findOrRegister(
    tx: SqlTx,
    hostId: string,
    bridge: string,
    vlanId: number | null,
    projectId: string,
  ): Promise<{ network: NetworkRow; created: boolean }> {
    const [shared] = await tx.run(
      db
        .selectFrom('networks')
        .select(COLUMNS)
        .where('bridge_name', '=', bridge)
        .where(sql<number>`coalesce(vlan_id, 0)`, '=', vlanId ?? 0)
        .where((eb) => eb.or([eb('host_id', '=', hostId), eb('host_id', 'is', null)]))
        .orderBy(sql`host_id NULLS LAST`)
        .limit(1),
    );
    if (shared) return { network: ownBridge(shared, projectId), created: false };
    const [row] = await tx.run(
      db
        .insertInto('networks')
        .values({
          name: `${bridge} Network`,
          description: 'Auto-registered from VM creation',
          type: vlanId === null ? 'bridge' : 'vlan',
          vlan_id: vlanId,
          bridge_name: bridge,
          host_id: hostId,
          mtu: 1500,
          project_id: projectId,
        })
        .onConflict((oc) =>
          oc
            .expression(sql`(coalesce(host_id, '')), bridge_name, (coalesce(vlan_id, 0))`)
            .doUpdateSet({ updated_at: sql`networks.updated_at` }),
        )
        .returning([...COLUMNS, sql<boolean>`(xmax = 0)`.as('created')]),
    );
    if (!row) throw new Error('INSERT … ON CONFLICT DO UPDATE returned no row');
    const { created, ...network } = row;
    return { network: ownBridge(network, projectId), created };
  }

  async addHosts(tx: SqlTx, networkId: string, hostIds: string[], explicit: boolean) {
    if (!hostIds.length) return;
    await tx.run(
      db
        .insertInto('network_hosts')
        .values(hostIds.map((host_id) => ({ network_id: networkId, host_id, explicit })))
        .onConflict((oc) =>
          oc
            .columns(['network_id', 'host_id'])
            .doUpdateSet({ explicit: sql<boolean>`network_hosts.explicit OR EXCLUDED.explicit` }),
        ),
    );
  }

  async hostIds(tx: SqlTx, networkId: string): Promise<string[]> {
    const rows = await tx.run(
      db
        .selectFrom('network_hosts')
        .select('host_id')
        .where('network_id', '=', networkId)
        .orderBy('host_id'),
    );
    return rows.map((r) => r.host_id);
  }

  async update(tx: SqlTx, id: string, n: NetworkUpdate): Promise<void> {
    await tx.run(
      db
        .updateTable('networks')
        .set((eb) => ({
          name: n.name ?? eb.ref('name'),
          description: n.description ?? eb.ref('description'),
          mode: n.mode,
          dhcp: n.dhcp ?? eb.ref('dhcp'),
          dns_servers: n.dns_servers
            ? sql<string[]>`${n.dns_servers}::inet[]`
            : eb.ref('dns_servers'),
          static_routes: n.static_routes
            ? sql<string>`${JSON.stringify(n.static_routes)}::jsonb`
            : eb.ref('static_routes'),
          cidr: n.cidr,
          gateway: n.gateway,
          mtu: n.mtu ?? eb.ref('mtu'),
          labels: n.labels ?? eb.ref('labels'),
          reserved_ranges: n.reserved_ranges,
          updated_at: sql`now()`,
        }))
        .where('id', '=', id),
    );
  }

  async delete(tx: SqlTx, id: string): Promise<void> {
    await tx.run(db.deleteFrom('networks').where('id', '=', id));
  }

  async allocateGateway(tx: SqlTx, networkId: string, gateway: string): Promise<void> {
    await tx.run(
      db
        .insertInto('ip_allocations')
        .values({ network_id: networkId, address: gateway, owner_kind: 'gateway' }),
    );
  }

  async releaseGateway(tx: SqlTx, networkId: string): Promise<void> {
    await tx.run(
      db
        .deleteFrom('ip_allocations')
        .where('network_id', '=', networkId)
        .where('owner_kind', '=', 'gateway'),
    );
  }

  /** Allocations (other than the gateway) a new CIDR would leave outside: how many, one example. */
  async allocationsOutside(
    tx: SqlTx,
    networkId: string,
    cidr: string,
  ): Promise<{ outside: number; example: string | null }> {
    const [row] = await tx.run(
      db
        .selectFrom('ip_allocations')
        .select([
          sql<number>`count(*)::int`.as('outside'),
          sql<string | null>`min(host(address))`.as('example'),
        ])
        .where('network_id', '=', networkId)
        .where('owner_kind', '<>', 'gateway')
        .where(sql<boolean>`NOT (address << ${cidr}::cidr)`),
    );
    return row ?? { outside: 0, example: null };
  }

  async nicCount(tx: SqlTx, networkId: string): Promise<number> {
    const [row] = await tx.run(
      db
        .selectFrom('nics')
        .select(sql<number>`count(*)::int`.as('count'))
        .where('network_id', '=', networkId),
    );
    return row?.count ?? 0;
  }

  /** The lowest address held for another resource (a load balancer's VIP), if any. */
  async firstReservation(
    tx: SqlTx,
    networkId: string,
  ): Promise<{ address: string; owner_id: string } | undefined> {
    const [row] = await tx.run(
      db
        .selectFrom('ip_allocations')
        .select([hostText('address').as('address'), 'owner_id'])
        .where('network_id', '=', networkId)
        .where('owner_kind', '=', 'reservation')
        .orderBy('ip_allocations.address')
        .limit(1),
    );
    return row;
  }

  /** Members not among `hostIds` that still have NICs on the network. */
  async membersWithNicsBesides(tx: SqlTx, networkId: string, hostIds: string[]): Promise<string[]> {
    const rows = await tx.run(
      db
        .selectFrom('network_hosts')
        .select('host_id')
        .where('network_id', '=', networkId)
        .where(sql<boolean>`NOT (host_id = ANY(${hostIds}::text[]))`)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('nics')
              .select(sql.lit(1).as('one'))
              .where('nics.network_id', '=', networkId)
              .whereRef('nics.host_id', '=', 'network_hosts.host_id'),
          ),
        ),
    );
    return rows.map((r) => r.host_id);
  }

  async removeMembersBesides(tx: SqlTx, networkId: string, hostIds: string[]): Promise<void> {
    await tx.run(
      db
        .deleteFrom('network_hosts')
        .where('network_id', '=', networkId)
        .where(sql<boolean>`NOT (host_id = ANY(${hostIds}::text[]))`),
    );
  }

  async countVms(id: string): Promise<number> {
    const [row] = await autocommit(this.ds).run(
      db.selectNoFrom((eb) => [
        eb
          .exists(
            eb
              .selectFrom('networks')
              .select(sql.lit(1).as('one'))
              .where('id', '=', id)
              .where(inCallerScope('project_id')),
          )
          .$castTo<boolean>()
          .as('exists'),
        eb
          .selectFrom('nics')
          .select(sql<number>`count(DISTINCT vm_id)::int`.as('count'))
          .where('network_id', '=', id)
          .$asScalar()
          .as('count'),
      ]),
    );
    if (!row?.exists) throw QnetError.notFound('network', id);
    return row.count ?? 0;
  }

  /** Networks of a project whose CIDR overlaps `cidr` (to name them in a conflict). */
  overlapping(projectId: string, cidr: string, exceptId?: string): Promise<NetworkRow[]> {
    return autocommit(this.ds).run(
      db
        .selectFrom('networks')
        .select(COLUMNS)
        .where('project_id', '=', projectId)
        .where(sql<boolean>`cidr && ${cidr}::cidr`)
        .$call((q) => (exceptId ? q.where('id', '<>', exceptId) : q))
        .limit(3),
    );
  }
}

function ownBridge(n: NetworkRow, projectId: string): NetworkRow {
  if (n.project_id === projectId) return n;
  const message = `bridge ${n.bridge_name} on host ${n.host_id ?? 'any'} belongs to another project's network`;
  throw new QnetError('already_exists', `bridge_name: ${message}`, [
    { field: 'bridge_name', message },
  ]);
}

function provisioning(r: ViewRow): ProvisioningStatus {
  if (r.failed > 0) return 'ERROR';
  return r.behind > 0 ? 'PENDING_UPDATE' : 'ACTIVE';
}

function operating(r: ViewRow): OperatingStatus {
  if (r.total === 0) return 'NO_MONITOR';
  if (r.healthy === r.total) return 'ONLINE';
  return r.healthy === 0 ? 'OFFLINE' : 'DEGRADED';
}

/** Where the gateway lives on the bridge, the network can serve DHCP and DNS. */
export const servesGuests = (n: { mode: NetworkMode; dhcp: boolean }) =>
  n.dhcp && (n.mode === 'nat' || n.mode === 'routed');

export function toView(r: ViewRow, dnsDomain: string): NetworkView {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    type: r.type,
    mode: r.mode,
    uplink_interface: r.uplink_interface,
    dhcp: r.dhcp,
    dns_domain: servesGuests(r) ? dnsDomainOf(r, dnsDomain) : null,
    dns_servers: r.dns_servers,
    static_routes: r.static_routes,
    vlan_id: r.vlan_id,
    vni: r.vni,
    bridge_name: r.bridge_name,
    host_id: r.host_id,
    host_ids: r.host_ids,
    vm_count: r.vm_count,
    cidr: r.cidr,
    gateway: r.gateway,
    reserved_ranges: r.reserved_ranges,
    mtu: r.mtu,
    project_id: r.project_id,
    labels: r.labels,
    provisioning_status: provisioning(r),
    operating_status: operating(r),
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}
