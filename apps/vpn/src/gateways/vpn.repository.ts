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

/** A WireGuard peer as an agent saw it on one of its interfaces. */
export interface ObservedPeer {
  iface: string;
  public_key: string;
  latest_handshake: number;
  rx_bytes: number;
  tx_bytes: number;
  endpoint: string;
}

export interface PeerChange {
  id: string;
  vpn_service_id: string;
  name: string;
  endpoint: string;
  before: Date | null;
  after: Date | null;
}

export interface RealizedService {
  id: string;
  interface_name: string;
  private_key_sealed: string;
  listen_port: number;
  gateway_address: string;
  local_subnets: string[];
}

export interface RealizedPeer {
  vpn_service_id: string;
  peer_public_key: string;
  preshared_key_sealed: string | null;
  allowed_ip: string;
}

const HOST = `h.applied, h.error, h.reported_at`;
const SERVICE_COLUMNS = `s.id, s.name, s.network_id, s.project_id, s.router_id, host(s.external_ip) AS external_ip,
  s.local_subnets::text[] AS local_subnets, s.listen_port, s.client_pool::text AS client_pool,
  s.gateway_address::text AS gateway_address, s.interface_name, s.host_id, s.private_key_sealed,
  s.public_key, s.generation, s.created_generation, s.created_at, ${HOST}`;
const CONNECTION_COLUMNS = `c.id, c.vpn_service_id, c.name,
  host(c.peer_address) || '/' || masklen(c.peer_address) AS peer_address, c.peer_public_key,
  c.preshared_key_sealed, c.generation, c.created_generation, c.created_at, c.latest_handshake,
  c.rx_bytes, c.tx_bytes, c.endpoint, ${HOST}`;
const HOST_DRIVER = `agent_drivers h ON h.host_id = s.host_id AND h.driver = 'wireguard'`;
const SERVICES = `vpn_services s JOIN ${HOST_DRIVER}`;
const CONNECTIONS = `vpn_connections c JOIN vpn_services s ON s.id = c.vpn_service_id
  JOIN ${HOST_DRIVER}`;

@Injectable()
export class VpnRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

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

  /** What a host's `wireguard` driver realizes: its gateways and their peers, keys sealed. */
  async realizedOn(
    tx: SqlTx,
    hostId: string,
  ): Promise<{ services: RealizedService[]; peers: RealizedPeer[] }> {
    const services = await tx.rows<RealizedService>(
      `SELECT id, interface_name, private_key_sealed, listen_port, gateway_address::text AS gateway_address,
         local_subnets::text[] AS local_subnets
       FROM vpn_services WHERE host_id = $1 ORDER BY interface_name`,
      [hostId],
    );
    const peers = await tx.rows<RealizedPeer>(
      `SELECT c.vpn_service_id, c.peer_public_key, c.preshared_key_sealed,
         host(c.peer_address) || '/' || masklen(c.peer_address) AS allowed_ip
       FROM vpn_connections c JOIN vpn_services s ON s.id = c.vpn_service_id
       WHERE s.host_id = $1 ORDER BY c.peer_address`,
      [hostId],
    );
    return { services, peers };
  }

  /** Records observed handshakes and traffic; returns the connections that changed. */
  recordPeers(tx: SqlTx, hostId: string, peers: ObservedPeer[]): Promise<PeerChange[]> {
    return tx.rows<PeerChange>(
      `WITH obs AS (
           SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[])
             AS o(iface, key, hs, rx, tx, endpoint)
         ), prev AS (
           SELECT c.id, c.latest_handshake AS before, o.*
           FROM vpn_connections c JOIN vpn_services s ON s.id = c.vpn_service_id
           JOIN obs o ON o.iface = s.interface_name AND o.key = c.peer_public_key
           WHERE s.host_id = $1 FOR UPDATE OF c
         )
         UPDATE vpn_connections c SET
           latest_handshake = CASE WHEN p.hs > 0 THEN to_timestamp(p.hs) END,
           rx_bytes = p.rx, tx_bytes = p.tx, endpoint = p.endpoint
         FROM prev p
         WHERE c.id = p.id AND (c.latest_handshake IS DISTINCT FROM CASE WHEN p.hs > 0 THEN to_timestamp(p.hs) END
           OR c.rx_bytes <> p.rx OR c.tx_bytes <> p.tx OR c.endpoint <> p.endpoint)
         RETURNING c.id, c.vpn_service_id, c.name, c.endpoint, p.before, c.latest_handshake AS after`,
      [
        hostId,
        peers.map((p) => p.iface),
        peers.map((p) => p.public_key),
        peers.map((p) => p.latest_handshake),
        peers.map((p) => p.rx_bytes),
        peers.map((p) => p.tx_bytes),
        peers.map((p) => p.endpoint),
      ],
    );
  }
}
