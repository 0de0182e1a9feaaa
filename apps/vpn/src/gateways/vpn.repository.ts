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

const HOST = ['h.applied', 'h.error', 'h.reported_at'] as const;
const SERVICE_COLUMNS = [
  's.id',
  's.name',
  's.network_id',
  's.project_id',
  's.router_id',
  hostText('s.external_ip').as('external_ip'),
  sql<string[]>`s.local_subnets::text[]`.as('local_subnets'),
  's.listen_port',
  asText('s.client_pool').as('client_pool'),
  asText('s.gateway_address').as('gateway_address'),
  's.interface_name',
  's.host_id',
  's.private_key_sealed',
  's.public_key',
  's.generation',
  's.created_generation',
  's.created_at',
  ...HOST,
] as const;
const CONNECTION_COLUMNS = [
  'c.id',
  'c.vpn_service_id',
  'c.name',
  withPrefix('c.peer_address').as('peer_address'),
  'c.peer_public_key',
  'c.preshared_key_sealed',
  'c.generation',
  'c.created_generation',
  'c.created_at',
  'c.latest_handshake',
  'c.rx_bytes',
  'c.tx_bytes',
  'c.endpoint',
  ...HOST,
] as const;

/** An inet as address/prefix even for a host route (text() of a /32 inet drops the prefix). */
function withPrefix(column: string) {
  return sql<string>`host(${sql.ref(column)}) || '/' || masklen(${sql.ref(column)})`;
}

/** Services with their host's `wireguard` progress. */
const services = () =>
  db
    .selectFrom('vpn_services as s')
    .innerJoin('agent_drivers as h', (j) =>
      j.onRef('h.host_id', '=', 's.host_id').on('h.driver', '=', 'wireguard'),
    );

/** Connections with their service's host's `wireguard` progress. */
const connections = () =>
  services()
    .innerJoin('vpn_connections as c', 'c.vpn_service_id', 's.id')
    .select(CONNECTION_COLUMNS);

@Injectable()
export class VpnRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async hostOf(serviceId: string): Promise<string> {
    const [row] = await autocommit(this.ds).run(
      db
        .selectFrom('vpn_services')
        .select('host_id')
        .where('id', '=', serviceId)
        .where(inCallerScope('project_id')),
    );
    if (!row) throw QnetError.notFound('vpn service', serviceId);
    return row.host_id;
  }

  async service(tx: SqlTx, id: string, lock = false): Promise<ServiceRow> {
    const [row] = await tx.run(
      services()
        .select(SERVICE_COLUMNS)
        .where('s.id', '=', id)
        .where(inCallerScope('s.project_id'))
        .$call((q) => (lock ? q.forUpdate(['s']) : q)),
    );
    if (!row) throw QnetError.notFound('vpn service', id);
    return row;
  }

  async connection(tx: SqlTx, serviceId: string, id: string): Promise<ConnectionRow> {
    const [row] = await tx.run(
      connections().where('c.id', '=', id).where('c.vpn_service_id', '=', serviceId),
    );
    if (!row) throw QnetError.notFound('connection', id);
    return row;
  }

  async insertService(tx: SqlTx, s: NewService): Promise<void> {
    await tx.run(
      db.insertInto('vpn_services').values({
        ...s,
        local_subnets: sql<string[]>`${s.local_subnets}::cidr[]`,
        created_generation: s.generation,
      }),
    );
  }

  async setGatewayKey(
    tx: SqlTx,
    id: string,
    sealed: string,
    publicKey: string,
    generation: number,
  ): Promise<void> {
    await tx.run(
      db
        .updateTable('vpn_services')
        .set({ private_key_sealed: sealed, public_key: publicKey, generation })
        .where('id', '=', id),
    );
  }

  async deleteService(tx: SqlTx, id: string): Promise<void> {
    await tx.run(db.deleteFrom('vpn_services').where('id', '=', id));
  }

  /**
   * Lowest free client address: candidates are the one after the gateway and the one after each
   * taken address, so this reads the taken addresses once instead of walking the pool.
   */
  async lowestFreeAddress(tx: SqlTx, serviceId: string): Promise<string | undefined> {
    const candidates = db
      .selectFrom('vpn_services')
      .select(sql<string>`host(gateway_address)::inet + 1`.as('a'))
      .where('id', '=', serviceId)
      .unionAll(
        db
          .selectFrom('vpn_connections')
          .select(sql<string>`peer_address + 1`.as('a'))
          .where('vpn_service_id', '=', serviceId),
      );
    const [row] = await tx.run(
      db
        .selectFrom([candidates.as('cand'), 'vpn_services as s'])
        .select(sql<string | null>`host(min(cand.a))`.as('a'))
        .where('s.id', '=', serviceId)
        .where(sql<boolean>`cand.a << s.client_pool`)
        .where(sql<boolean>`(family(cand.a) = 6 OR cand.a <> host(broadcast(s.client_pool))::inet)`)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('vpn_connections as c')
                .select(sql.lit(1).as('one'))
                .where('c.vpn_service_id', '=', serviceId)
                .whereRef('c.peer_address', '=', 'cand.a'),
            ),
          ),
        ),
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
    const [row] = await tx.run(
      db
        .insertInto('vpn_connections')
        .values({ ...c, created_generation: c.generation })
        .returning('id'),
    );
    if (!row) throw new Error('INSERT returned no row');
    return row.id;
  }

  async updateConnection(
    tx: SqlTx,
    id: string,
    set: { peer_public_key?: string; preshared_key_sealed?: string },
    generation: number,
  ): Promise<void> {
    await tx.run(
      db
        .updateTable('vpn_connections')
        .set((eb) => ({
          peer_public_key: set.peer_public_key ?? eb.ref('peer_public_key'),
          preshared_key_sealed: set.preshared_key_sealed ?? eb.ref('preshared_key_sealed'),
          generation,
          // A new key is a new peer: its last handshake is not the old key's.
          ...(set.peer_public_key !== undefined && { latest_handshake: null }),
        }))
        .where('id', '=', id),
    );
  }

  async deleteConnection(tx: SqlTx, id: string): Promise<void> {
    await tx.run(db.deleteFrom('vpn_connections').where('id', '=', id));
  }

  async listServices(req: ListVpnServicesRequest): Promise<Page<ServiceRow>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const after = pageStart(req.page_token);
    const project = listedProject(req.project_id);
    const rows = await autocommit(this.ds).run(
      services()
        .select(SERVICE_COLUMNS)
        .$call((q) => (after ? q.where('s.id', '>', after) : q))
        .$call((q) => (project ? q.where('s.project_id', '=', project) : q))
        .$call((q) => (req.network_id ? q.where('s.network_id', '=', req.network_id) : q))
        .orderBy('s.id')
        .limit(limit + 1),
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
    const after = pageStart(req.page_token);
    const rows = await autocommit(this.ds).run(
      connections()
        .where('c.vpn_service_id', '=', serviceId)
        .$call((q) => (after ? q.where('c.id', '>', after) : q))
        .orderBy('c.id')
        .limit(limit + 1),
    );
    return pageOf(
      rows,
      limit,
      (r) => r,
      (r) => r.id,
    );
  }

  allConnections(tx: SqlTx, serviceId: string): Promise<ConnectionRow[]> {
    return tx.run(connections().where('c.vpn_service_id', '=', serviceId).orderBy('c.name'));
  }

  /** Services per host, for placing a new one on the least loaded. */
  async serviceCounts(hostIds: string[]): Promise<Map<string, number>> {
    const rows = await autocommit(this.ds).run(
      db
        .selectFrom('vpn_services')
        .select(['host_id', sql<number>`count(*)::int`.as('n')])
        .where('host_id', '=', anyOf(hostIds))
        .groupBy('host_id'),
    );
    return new Map(rows.map((r) => [r.host_id, r.n]));
  }

  /** What a host's `wireguard` driver realizes: its gateways and their peers, keys sealed. */
  async realizedOn(
    tx: SqlTx,
    hostId: string,
  ): Promise<{ services: RealizedService[]; peers: RealizedPeer[] }> {
    const services = await tx.run(
      db
        .selectFrom('vpn_services')
        .select([
          'id',
          'interface_name',
          'private_key_sealed',
          'listen_port',
          asText('gateway_address').as('gateway_address'),
          sql<string[]>`local_subnets::text[]`.as('local_subnets'),
        ])
        .where('host_id', '=', hostId)
        .orderBy('interface_name'),
    );
    const peers = await tx.run(
      db
        .selectFrom('vpn_connections as c')
        .innerJoin('vpn_services as s', 's.id', 'c.vpn_service_id')
        .select([
          'c.vpn_service_id',
          'c.peer_public_key',
          'c.preshared_key_sealed',
          withPrefix('c.peer_address').as('allowed_ip'),
        ])
        .where('s.host_id', '=', hostId)
        .orderBy('c.peer_address'),
    );
    return { services, peers };
  }

  /** Records observed handshakes and traffic; returns the connections that changed. */
  recordPeers(tx: SqlTx, hostId: string, peers: ObservedPeer[]): Promise<PeerChange[]> {
    const observed = sql<{
      iface: string;
      key: string;
      hs: string;
      rx: string;
      tx: string;
      endpoint: string;
    }>`unnest(${peers.map((p) => p.iface)}::text[], ${peers.map((p) => p.public_key)}::text[],
      ${peers.map((p) => p.latest_handshake)}::bigint[], ${peers.map((p) => p.rx_bytes)}::bigint[],
      ${peers.map((p) => p.tx_bytes)}::bigint[], ${peers.map((p) => p.endpoint)}::text[])`.as<'o'>(
      sql`o(iface, key, hs, rx, tx, endpoint)`,
    );
    const handshake = sql<Date | null>`CASE WHEN p.hs > 0 THEN to_timestamp(p.hs) END`;
    return tx.run(
      db
        .with('prev', (qc) =>
          qc
            .selectFrom('vpn_connections as c')
            .innerJoin('vpn_services as s', 's.id', 'c.vpn_service_id')
            .innerJoin(observed, (j) =>
              j.onRef('o.iface', '=', 's.interface_name').onRef('o.key', '=', 'c.peer_public_key'),
            )
            .select(['c.id', 'c.latest_handshake as before', 'o.hs', 'o.rx', 'o.tx', 'o.endpoint'])
            .where('s.host_id', '=', hostId)
            .forUpdate(['c']),
        )
        .updateTable('vpn_connections as c')
        .from('prev as p')
        .set((eb) => ({
          latest_handshake: handshake,
          rx_bytes: eb.ref('p.rx'),
          tx_bytes: eb.ref('p.tx'),
          endpoint: eb.ref('p.endpoint'),
        }))
        .whereRef('c.id', '=', 'p.id')
        .where(
          sql<boolean>`(c.latest_handshake IS DISTINCT FROM ${handshake}
            OR c.rx_bytes <> p.rx OR c.tx_bytes <> p.tx OR c.endpoint <> p.endpoint)`,
        )
        .returning([
          'c.id',
          'c.vpn_service_id',
          'c.name',
          'c.endpoint',
          'p.before',
          'c.latest_handshake as after',
        ]),
    );
  }
}
