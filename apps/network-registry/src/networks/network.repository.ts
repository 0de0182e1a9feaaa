import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  pageOf,
  pageStart,
  DEFAULT_PAGE_SIZE,
  QnetError,
  type ListNetworksRequest,
  type NetworkType,
  type NetworkView,
  type OperatingStatus,
  type Page,
  type ProvisioningStatus,
} from '@qnet/contracts';
import {
  autocommit,
  callerScope,
  DATA_SOURCE,
  inScope,
  listedProject,
  sqlRows,
  type SqlTx,
} from '@qnet/persistence';
import { HEALTH_SQL, type HealthWindows } from '../hosts/health.js';
import { HEALTH_WINDOWS } from '../hosts/tokens.js';
import { escapeLike } from '../sql.js';

/** A network row as the registry works with it internally. */
export interface NetworkRow {
  id: string;
  name: string;
  description: string;
  type: NetworkType;
  vlan_id: number | null;
  vni: number | null;
  bridge_name: string;
  host_id: string | null;
  cidr: string | null;
  gateway: string | null;
  reserved_ranges: string[];
  mtu: number;
  project_id: string;
  labels: Record<string, string>;
  created_at: Date;
  updated_at: Date;
}

export interface NewNetwork {
  name: string;
  description: string;
  type: NetworkType;
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

const COLUMNS = `n.id, n.name, n.description, n.type, n.vlan_id, n.vni, n.bridge_name, n.host_id,
  text(n.cidr) AS cidr, host(n.gateway) AS gateway, n.reserved_ranges, n.mtu, n.project_id, n.labels,
  n.created_at, n.updated_at`;

/** Network columns plus its hosts and how far they are (health; applied desired state). $1, $2: health windows. */
const VIEW = `SELECT ${COLUMNS}, coalesce(s.host_ids, '{}') AS host_ids, coalesce(s.total, 0) AS total,
    coalesce(s.healthy, 0) AS healthy, coalesce(s.behind, 0) AS behind, coalesce(s.failed, 0) AS failed
  FROM networks n LEFT JOIN LATERAL (
    SELECT array_agg(nh.host_id ORDER BY nh.host_id) AS host_ids, count(*)::int AS total,
      count(h.id) FILTER (WHERE ${HEALTH_SQL} = 'healthy')::int AS healthy,
      count(*) FILTER (WHERE h.id IS NULL OR d.applied IS NULL OR d.applied < d.generation)::int AS behind,
      count(d.error)::int AS failed
    FROM network_hosts nh LEFT JOIN hosts h ON h.id = nh.host_id
      LEFT JOIN agent_drivers d ON d.host_id = nh.host_id AND d.driver = 'linux'
    WHERE nh.network_id = n.id) s ON true`;

export interface NetworkUpdate {
  name?: string;
  description?: string;
  cidr: string | null;
  gateway: string | null;
  mtu?: number;
  labels?: Record<string, string>;
  reserved_ranges: string[];
}

type ViewRow = NetworkRow & {
  host_ids: string[];
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
  ) {}

  async get(id: string, tx: SqlTx = autocommit(this.ds)): Promise<NetworkView> {
    const rows = await tx.rows<ViewRow>(
      `${VIEW} WHERE n.id = $3 AND ${inScope('n.project_id', 4)}`,
      [...this.windowParams(), id, callerScope()],
    );
    if (!rows[0]) throw QnetError.notFound('network', id);
    return toView(rows[0]);
  }

  async list(req: ListNetworksRequest): Promise<Page<NetworkView>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = this.windowParams();
    const where: string[] = [];
    const after = pageStart(req.page_token);
    if (after) where.push(`n.id > $${params.push(after)}::uuid`);
    if (req.type) where.push(`n.type = $${params.push(req.type)}`);
    if (req.bridge_name) where.push(`n.bridge_name = $${params.push(req.bridge_name)}`);
    const project = listedProject(req.project_id);
    if (project) where.push(`n.project_id = $${params.push(project)}`);
    if (req.name) where.push(`n.name ILIKE $${params.push(`%${escapeLike(req.name)}%`)}`);
    if (req.host_id) {
      const p = params.push(req.host_id);
      where.push(
        `(n.host_id = $${p} OR EXISTS (SELECT 1 FROM network_hosts x WHERE x.network_id = n.id AND x.host_id = $${p}))`,
      );
    }
    const rows: ViewRow[] = await sqlRows(
      this.ds,
      `${VIEW} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n.id LIMIT ${limit + 1}`,
      params,
    );
    return pageOf(rows, limit, toView, (v) => v.id);
  }

  /** Locks the network for the rest of the transaction: address allocation and deletes queue here. */
  async lock(tx: SqlTx, id: string): Promise<NetworkRow> {
    const rows: NetworkRow[] = await tx.rows(
      `SELECT ${COLUMNS} FROM networks n WHERE n.id = $1 AND ${inScope('n.project_id', 2)} FOR UPDATE`,
      [id, callerScope()],
    );
    if (!rows[0]) throw QnetError.notFound('network', id);
    return rows[0];
  }

  /** Inserts a network; an overlay without a VNI gets the lowest free one, its bridge `qbr<vni>`. */
  async insert(tx: SqlTx, n: NewNetwork): Promise<NetworkRow> {
    const rows: NetworkRow[] = await tx.rows(
      `WITH v AS (
         SELECT CASE WHEN $3 <> 'overlay' THEN NULL WHEN $4::int IS NOT NULL THEN $4::int
           ELSE (SELECT min(c) FROM (SELECT 1 AS c UNION ALL SELECT vni + 1 FROM networks WHERE vni IS NOT NULL) f
                 WHERE c <= 16777215 AND NOT EXISTS (SELECT 1 FROM networks x WHERE x.vni = f.c)) END AS vni)
       INSERT INTO networks AS n (name, description, type, vlan_id, vni, bridge_name, host_id, cidr, gateway,
         reserved_ranges, mtu, project_id, labels)
       SELECT $1, $2, $3, $5, v.vni, coalesce($6, 'qbr' || v.vni), $7, $8, $9, $10, $11, $12, $13 FROM v
       RETURNING ${COLUMNS}`,
      [
        n.name,
        n.description,
        n.type,
        n.vni,
        n.vlan_id,
        n.bridge_name,
        n.host_id,
        n.cidr,
        n.gateway,
        n.reserved_ranges,
        n.mtu,
        n.project_id,
        JSON.stringify(n.labels),
      ],
    );
    return rows[0]!;
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
    const shared: NetworkRow[] = await tx.rows(
      `SELECT ${COLUMNS} FROM networks n WHERE n.bridge_name = $1 AND coalesce(n.vlan_id, 0) = $2
         AND (n.host_id = $3 OR n.host_id IS NULL) ORDER BY n.host_id NULLS LAST LIMIT 1`,
      [bridge, vlanId ?? 0, hostId],
    );
    if (shared[0]) return { network: ownBridge(shared[0], projectId), created: false };
    const rows: (NetworkRow & { created: boolean })[] = await tx.rows(
      `INSERT INTO networks AS n (name, description, type, vlan_id, bridge_name, host_id, mtu, project_id)
       VALUES ($1 || ' Network', 'Auto-registered from VM creation', CASE WHEN $2::int IS NULL THEN 'bridge' ELSE 'vlan' END,
         $2, $1, $3, 1500, $4)
       ON CONFLICT ((coalesce(host_id, '')), bridge_name, (coalesce(vlan_id, 0)))
         DO UPDATE SET updated_at = n.updated_at
       RETURNING ${COLUMNS}, (xmax = 0) AS created`,
      [bridge, vlanId, hostId, projectId],
    );
    const { created, ...network } = rows[0]!;
    return { network: ownBridge(network, projectId), created };
  }

  async addHosts(tx: SqlTx, networkId: string, hostIds: string[], explicit: boolean) {
    if (!hostIds.length) return;
    await tx.rows(
      `INSERT INTO network_hosts (network_id, host_id, explicit) SELECT $1, unnest($2::text[]), $3
       ON CONFLICT (network_id, host_id) DO UPDATE SET explicit = network_hosts.explicit OR EXCLUDED.explicit`,
      [networkId, hostIds, explicit],
    );
  }

  async hostIds(tx: SqlTx, networkId: string): Promise<string[]> {
    const rows: { host_id: string }[] = await tx.rows(
      `SELECT host_id FROM network_hosts WHERE network_id = $1 ORDER BY host_id`,
      [networkId],
    );
    return rows.map((r) => r.host_id);
  }

  async update(tx: SqlTx, id: string, n: NetworkUpdate): Promise<void> {
    await tx.rows(
      `UPDATE networks SET name = coalesce($2, name), description = coalesce($3, description),
         cidr = $4, gateway = $5, mtu = coalesce($6, mtu), labels = coalesce($7::jsonb, labels),
         reserved_ranges = $8, updated_at = now()
       WHERE id = $1`,
      [
        id,
        n.name ?? null,
        n.description ?? null,
        n.cidr,
        n.gateway,
        n.mtu ?? null,
        n.labels ? JSON.stringify(n.labels) : null,
        n.reserved_ranges,
      ],
    );
  }

  async delete(tx: SqlTx, id: string): Promise<void> {
    await tx.rows(`DELETE FROM networks WHERE id = $1`, [id]);
  }

  async allocateGateway(tx: SqlTx, networkId: string, gateway: string): Promise<void> {
    await tx.rows(
      `INSERT INTO ip_allocations (network_id, address, owner_kind) VALUES ($1, $2, 'gateway')`,
      [networkId, gateway],
    );
  }

  async releaseGateway(tx: SqlTx, networkId: string): Promise<void> {
    await tx.rows(`DELETE FROM ip_allocations WHERE network_id = $1 AND owner_kind = 'gateway'`, [
      networkId,
    ]);
  }

  /** Allocations (other than the gateway) a new CIDR would leave outside: how many, one example. */
  async allocationsOutside(
    tx: SqlTx,
    networkId: string,
    cidr: string,
  ): Promise<{ outside: number; example: string | null }> {
    const [row] = await tx.rows<{ outside: number; example: string | null }>(
      `SELECT count(*)::int AS outside, min(host(address)) AS example FROM ip_allocations
       WHERE network_id = $1 AND owner_kind <> 'gateway' AND NOT (address << $2::cidr)`,
      [networkId, cidr],
    );
    return row ?? { outside: 0, example: null };
  }

  async nicCount(tx: SqlTx, networkId: string): Promise<number> {
    const [row] = await tx.rows<{ count: number }>(
      `SELECT count(*)::int AS count FROM nics WHERE network_id = $1`,
      [networkId],
    );
    return row?.count ?? 0;
  }

  /** The lowest address held for another resource (a load balancer's VIP), if any. */
  async firstReservation(
    tx: SqlTx,
    networkId: string,
  ): Promise<{ address: string; owner_id: string } | undefined> {
    const [row] = await tx.rows<{ address: string; owner_id: string }>(
      `SELECT host(address) AS address, owner_id FROM ip_allocations
       WHERE network_id = $1 AND owner_kind = 'reservation' ORDER BY address LIMIT 1`,
      [networkId],
    );
    return row;
  }

  /** Members not among `hostIds` that still have NICs on the network. */
  async membersWithNicsBesides(tx: SqlTx, networkId: string, hostIds: string[]): Promise<string[]> {
    const rows = await tx.rows<{ host_id: string }>(
      `SELECT host_id FROM network_hosts WHERE network_id = $1 AND NOT (host_id = ANY($2::text[]))
         AND EXISTS (SELECT 1 FROM nics WHERE nics.network_id = $1 AND nics.host_id = network_hosts.host_id)`,
      [networkId, hostIds],
    );
    return rows.map((r) => r.host_id);
  }

  async removeMembersBesides(tx: SqlTx, networkId: string, hostIds: string[]): Promise<void> {
    await tx.rows(
      `DELETE FROM network_hosts WHERE network_id = $1 AND NOT (host_id = ANY($2::text[]))`,
      [networkId, hostIds],
    );
  }

  async countVms(id: string): Promise<number> {
    const rows: { exists: boolean; count: number }[] = await sqlRows(
      this.ds,
      `SELECT EXISTS (SELECT 1 FROM networks WHERE id = $1 AND ${inScope('project_id', 2)}) AS exists,
         (SELECT count(DISTINCT vm_id)::int FROM nics WHERE network_id = $1) AS count`,
      [id, callerScope()],
    );
    if (!rows[0]?.exists) throw QnetError.notFound('network', id);
    return rows[0].count;
  }

  /** Networks of a project whose CIDR overlaps `cidr` (to name them in a conflict). */
  async overlapping(projectId: string, cidr: string, exceptId?: string): Promise<NetworkRow[]> {
    return sqlRows(
      this.ds,
      `SELECT ${COLUMNS} FROM networks n WHERE n.project_id = $1 AND n.cidr && $2::cidr
         AND n.id IS DISTINCT FROM $3::uuid LIMIT 3`,
      [projectId, cidr, exceptId ?? null],
    );
  }

  private windowParams(): unknown[] {
    return [this.windows.healthyMs, this.windows.offlineMs];
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

export function toView(r: ViewRow): NetworkView {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    type: r.type,
    vlan_id: r.vlan_id,
    vni: r.vni,
    bridge_name: r.bridge_name,
    host_id: r.host_id,
    host_ids: r.host_ids,
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
