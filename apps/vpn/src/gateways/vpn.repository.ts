import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  DEFAULT_PAGE_SIZE,
  pageOf,
  pageStart,
  QnetError,
  type ListVpnServicesRequest,
  type Page,
  type PageRequest,
  type VpnConnectionView,
  type VpnServiceView,
} from '@qnet/contracts';
import {
  autocommit,
  callerScope,
  DATA_SOURCE,
  inScope,
  listedProject,
  type SqlTx,
} from '@qnet/persistence';

/** What a row's provisioning and operating status derive from: its generation against its host's. */
interface HostProgress {
  generation: string;
  created_generation: string;
  applied: string;
  error: string | null;
  reported_at: Date | null;
}

/** A service as stored: its view's fields plus the sealed key, progress and dates as dates. */
export interface ServiceRow
  extends
    Omit<VpnServiceView, 'provisioning_status' | 'operating_status' | 'created_at'>,
    HostProgress {
  gateway_address: string;
  private_key_sealed: string;
  created_at: Date;
}

/** A connection as stored: its view's fields plus the sealed PSK and the last peer report. */
export interface ConnectionRow
  extends
    Omit<
      VpnConnectionView,
      'has_preshared_key' | 'provisioning_status' | 'created_at' | 'private_key'
    >,
    HostProgress {
  preshared_key_sealed: string | null;
  created_at: Date;
  latest_handshake: Date | null;
  rx_bytes: string;
  tx_bytes: string;
  endpoint: string;
}

export type NewService = Omit<
  ServiceRow,
  keyof HostProgress | 'id' | 'created_at' | 'interface_name'
> & { id: string; interface_name: string; generation: number };

const HOST = `h.applied, h.error, h.reported_at`;
const SERVICE_COLUMNS = `s.id, s.name, s.network_id, s.project_id, s.router_id, host(s.external_ip) AS external_ip,
  s.local_subnets::text[] AS local_subnets, s.listen_port, s.client_pool::text AS client_pool,
  s.gateway_address::text AS gateway_address, s.interface_name, s.host_id, s.private_key_sealed,
  s.public_key, s.generation, s.created_generation, s.created_at, ${HOST}`;
const CONNECTION_COLUMNS = `c.id, c.vpn_service_id, c.name,
  host(c.peer_address) || '/' || masklen(c.peer_address) AS peer_address, c.peer_public_key,
  c.preshared_key_sealed, c.generation, c.created_generation, c.created_at, c.latest_handshake,
  c.rx_bytes, c.tx_bytes, c.endpoint, ${HOST}`;
const SERVICES = `vpn_services s JOIN vpn_hosts h ON h.host_id = s.host_id`;
const CONNECTIONS = `vpn_connections c JOIN vpn_services s ON s.id = c.vpn_service_id
  JOIN vpn_hosts h ON h.host_id = s.host_id`;

@Injectable()
export class VpnRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  /**
   * Takes the next generation of a host's desired state. The row lock orders every change on that
   * host, so the state rendered in this transaction includes everything committed before it.
   */
  async nextGeneration(tx: SqlTx, hostId: string): Promise<number> {
    await tx.rows(`INSERT INTO vpn_hosts (host_id) VALUES ($1) ON CONFLICT DO NOTHING`, [hostId]);
    const [row] = await tx.rows<{ generation: string }>(
      `UPDATE vpn_hosts SET generation = generation + 1 WHERE host_id = $1 RETURNING generation`,
      [hostId],
    );
    return Number(row!.generation);
  }

  async hostOf(serviceId: string): Promise<string> {
    const [row] = await autocommit(this.ds).rows<{ host_id: string }>(
      `SELECT host_id FROM vpn_services WHERE id = $1 AND ${inScope('project_id', 2)}`,
      [serviceId, callerScope()],
    );
    if (!row) throw QnetError.notFound('vpn service', serviceId);
    return row.host_id;
  }

  async service(tx: SqlTx, id: string, lock = false): Promise<ServiceRow> {
    const [row] = await tx.rows<ServiceRow>(
      `SELECT ${SERVICE_COLUMNS} FROM ${SERVICES} WHERE s.id = $1 AND ${inScope('s.project_id', 2)}
       ${lock ? 'FOR UPDATE OF s' : ''}`,
      [id, callerScope()],
    );
    if (!row) throw QnetError.notFound('vpn service', id);
    return row;
  }

  async connection(tx: SqlTx, serviceId: string, id: string): Promise<ConnectionRow> {
    const [row] = await tx.rows<ConnectionRow>(
      `SELECT ${CONNECTION_COLUMNS} FROM ${CONNECTIONS} WHERE c.id = $1 AND c.vpn_service_id = $2`,
      [id, serviceId],
    );
    if (!row) throw QnetError.notFound('connection', id);
    return row;
  }

  async insertService(tx: SqlTx, s: NewService): Promise<void> {
    await tx.rows(
      `INSERT INTO vpn_services (id, name, network_id, project_id, router_id, external_ip, local_subnets,
         listen_port, client_pool, gateway_address, interface_name, host_id, private_key_sealed,
         public_key, generation, created_generation)
       VALUES ($1, $2, $3, $4, $5, $6, $7::cidr[], $8, $9, $10, $11, $12, $13, $14, $15, $15)`,
      [
        s.id,
        s.name,
        s.network_id,
        s.project_id,
        s.router_id,
        s.external_ip,
        s.local_subnets,
        s.listen_port,
        s.client_pool,
        s.gateway_address,
        s.interface_name,
        s.host_id,
        s.private_key_sealed,
        s.public_key,
        s.generation,
      ],
    );
  }

  async setGatewayKey(
    tx: SqlTx,
    id: string,
    sealed: string,
    publicKey: string,
    generation: number,
  ): Promise<void> {
    await tx.rows(
      `UPDATE vpn_services SET private_key_sealed = $2, public_key = $3, generation = $4 WHERE id = $1`,
      [id, sealed, publicKey, generation],
    );
  }

  async deleteService(tx: SqlTx, id: string): Promise<void> {
    await tx.rows(`DELETE FROM vpn_services WHERE id = $1`, [id]);
  }

  /**
   * Lowest free client address: candidates are the one after the gateway and the one after each
   * taken address, so this reads the taken addresses once instead of walking the pool.
   */
  async lowestFreeAddress(tx: SqlTx, serviceId: string): Promise<string | undefined> {
    const [row] = await tx.rows<{ a: string | null }>(
      `SELECT host(min(a)) AS a FROM (
         SELECT host(s.gateway_address)::inet + 1 AS a FROM vpn_services s WHERE s.id = $1
         UNION ALL SELECT c.peer_address + 1 FROM vpn_connections c WHERE c.vpn_service_id = $1
       ) cand, vpn_services s
       WHERE s.id = $1 AND a << s.client_pool
         AND (family(a) = 6 OR a <> host(broadcast(s.client_pool))::inet)
         AND NOT EXISTS (SELECT 1 FROM vpn_connections c WHERE c.vpn_service_id = $1 AND c.peer_address = a)`,
      [serviceId],
    );
    return row?.a ?? undefined;
  }

  async insertConnection(
    tx: SqlTx,
    c: {
      vpn_service_id: string;
      name: string;
      peer_address: string;
      peer_public_key: string;
      preshared_key_sealed: string | null;
      generation: number;
    },
  ): Promise<string> {
    const [row] = await tx.rows<{ id: string }>(
      `INSERT INTO vpn_connections (vpn_service_id, name, peer_address, peer_public_key,
         preshared_key_sealed, generation, created_generation)
       VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
      [
        c.vpn_service_id,
        c.name,
        c.peer_address,
        c.peer_public_key,
        c.preshared_key_sealed,
        c.generation,
      ],
    );
    return row!.id;
  }

  async updateConnection(
    tx: SqlTx,
    id: string,
    set: { peer_public_key?: string; preshared_key_sealed?: string },
    generation: number,
  ): Promise<void> {
    await tx.rows(
      `UPDATE vpn_connections SET peer_public_key = COALESCE($2, peer_public_key),
         preshared_key_sealed = COALESCE($3, preshared_key_sealed), generation = $4,
         latest_handshake = CASE WHEN $2::text IS NULL THEN latest_handshake END
       WHERE id = $1`,
      [id, set.peer_public_key ?? null, set.preshared_key_sealed ?? null, generation],
    );
  }

  async deleteConnection(tx: SqlTx, id: string): Promise<void> {
    await tx.rows(`DELETE FROM vpn_connections WHERE id = $1`, [id]);
  }

  async listServices(req: ListVpnServicesRequest): Promise<Page<ServiceRow>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const rows = await autocommit(this.ds).rows<ServiceRow>(
      `SELECT ${SERVICE_COLUMNS} FROM ${SERVICES}
       WHERE ($1::uuid IS NULL OR s.id > $1) AND ($2::text IS NULL OR s.project_id = $2)
         AND ($3::uuid IS NULL OR s.network_id = $3)
       ORDER BY s.id LIMIT $4`,
      [
        pageStart(req.page_token) ?? null,
        listedProject(req.project_id),
        req.network_id ?? null,
        limit + 1,
      ],
    );
    return pageOf(
      rows,
      limit,
      (r) => r,
      (r) => r.id,
    );
  }

  async listConnections(serviceId: string, req: PageRequest): Promise<Page<ConnectionRow>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const rows = await autocommit(this.ds).rows<ConnectionRow>(
      `SELECT ${CONNECTION_COLUMNS} FROM ${CONNECTIONS}
       WHERE c.vpn_service_id = $1 AND ($2::uuid IS NULL OR c.id > $2) ORDER BY c.id LIMIT $3`,
      [serviceId, pageStart(req.page_token) ?? null, limit + 1],
    );
    return pageOf(
      rows,
      limit,
      (r) => r,
      (r) => r.id,
    );
  }

  async allConnections(tx: SqlTx, serviceId: string): Promise<ConnectionRow[]> {
    return tx.rows<ConnectionRow>(
      `SELECT ${CONNECTION_COLUMNS} FROM ${CONNECTIONS} WHERE c.vpn_service_id = $1 ORDER BY c.name`,
      [serviceId],
    );
  }

  /** Services per host, for placing a new one on the least loaded. */
  async serviceCounts(hostIds: string[]): Promise<Map<string, number>> {
    const rows = await autocommit(this.ds).rows<{ host_id: string; n: number }>(
      `SELECT host_id, count(*)::int AS n FROM vpn_services WHERE host_id = ANY($1::text[]) GROUP BY host_id`,
      [hostIds],
    );
    return new Map(rows.map((r) => [r.host_id, r.n]));
  }
}
