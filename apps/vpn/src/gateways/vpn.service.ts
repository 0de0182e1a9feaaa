import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { EventPublisher, NATS_CONNECTION } from '@qnet/bus';
import {
  DEFAULT_PROJECT,
  QnetError,
  WIREGUARD_INTERFACE_PREFIX,
  WIREGUARD_PORT,
  type AddConnectionRequest,
  type AuditEventView,
  type ClientConfigView,
  type ConnectionRef,
  type CreateVpnServiceRequest,
  type ListConnectionsRequest,
  type ListConnectionsResponse,
  type ListVpnServicesRequest,
  type ListVpnServicesResponse,
  type PresharedKeyView,
  type RotateConnectionKeyRequest,
  type SetPresharedKeyRequest,
  type VpnConnectionView,
  type VpnServiceView,
} from '@qnet/contracts';
import {
  addressAt,
  cidrContainsIp,
  cidrsOverlap,
  isNetworkOrBroadcast,
  parseCidr,
} from '@qnet/netaddr';
import {
  autocommit,
  DATA_SOURCE,
  explainViolation,
  inTransaction,
  type SqlTx,
} from '@qnet/persistence';
import type { SecretBox } from '@qnet/runtime';
import { DesiredStateService } from '../agent/desired-state.service.js';
import { AuditRepository, type AuditEntry } from '../audit/audit.repository.js';
import type { VpnConfig } from '../config.js';
import { SECRET_BOX, VPN_CONFIG } from '../tokens.js';
import { configFilename, qrSvg, renderClientConfig } from './client-config.js';
import { generateKeyPair, generatePresharedKey } from './keys.js';
import { networkOf, placeGateway } from './placement.js';
import { connectionView, serviceView } from './views.js';
import { VpnRepository } from './vpn.repository.js';

const SERVICE_CONSTRAINTS = {
  vpn_services_name: { field: 'name', message: 'a VPN service of this name exists in the project' },
  vpn_services_port: {
    field: 'listen_port',
    message: 'is taken by another VPN service on this host',
  },
  vpn_services_pool_overlap: {
    field: 'client_pool',
    message: 'overlaps the client pool of another VPN service on this host',
  },
};

const CONNECTION_CONSTRAINTS = {
  vpn_connections_name: {
    field: 'name',
    message: 'a connection of this name exists on this VPN service',
  },
  vpn_connections_address: { field: 'peer_address', message: 'is taken by another connection' },
  vpn_connections_key: {
    field: 'peer_public_key',
    message: 'is already a peer of this VPN service',
  },
};

interface Change<T> {
  result: T;
  audit: AuditEntry[];
}

/** The VPN use cases. Every change bumps its host's generation, is audited and pushed in one step. */
@Injectable()
export class VpnService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(VPN_CONFIG) private readonly config: VpnConfig,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
    private readonly repo: VpnRepository,
    private readonly auditLog: AuditRepository,
    private readonly desired: DesiredStateService,
    private readonly events: EventPublisher,
  ) {}

  async create(req: CreateVpnServiceRequest): Promise<VpnServiceView> {
    const pool = parseCidr(req.client_pool ?? this.config.defaultClientPool);
    if (pool.size < 4n)
      throw QnetError.invalid('client_pool', 'must hold the gateway and at least one client');
    const overlap = req.local_subnets.find((s) => cidrsOverlap(parseCidr(s), pool));
    if (overlap)
      throw QnetError.invalid('local_subnets', `${overlap} overlaps the client pool ${pool.text}`);
    await networkOf(this.nc, req.network_id);
    const hostId = await placeGateway(this.nc, (ids) => this.repo.serviceCounts(ids), req.host_id);
    const id = randomUUID();
    const keys = generateKeyPair();
    return this.change(hostId, async (tx, generation) => {
      await this.repo
        .insertService(tx, {
          id,
          name: req.name,
          network_id: req.network_id,
          project_id: req.project_id ?? DEFAULT_PROJECT,
          router_id: req.router_id ?? '',
          external_ip: req.external_ip,
          local_subnets: req.local_subnets,
          listen_port: req.listen_port ?? WIREGUARD_PORT,
          client_pool: pool.text,
          gateway_address: `${addressAt(pool, 1n)}/${pool.prefix}`,
          interface_name: WIREGUARD_INTERFACE_PREFIX + id.replace(/-/g, '').slice(0, 12),
          host_id: hostId,
          private_key_sealed: this.secrets.seal(keys.privateKey),
          public_key: keys.publicKey,
          generation,
        })
        .catch((err: unknown) => explainViolation(err, SERVICE_CONSTRAINTS));
      const view = await this.serviceIn(tx, id);
      return {
        result: view,
        audit: [{ vpn_service_id: id, action: 'vpn_service.created', detail: `on host ${hostId}` }],
      };
    });
  }

  async get(id: string): Promise<VpnServiceView> {
    return this.serviceIn(autocommit(this.ds), id);
  }

  async list(req: ListVpnServicesRequest): Promise<ListVpnServicesResponse> {
    const page = await this.repo.listServices(req);
    return {
      vpn_services: page.items.map((r) => serviceView(r, this.config.reportStaleMs)),
      next_page_token: page.next_page_token,
    };
  }

  async delete(id: string): Promise<void> {
    await this.onService(id, async (tx) => {
      await this.repo.deleteService(tx, id);
      return { result: undefined, audit: [{ vpn_service_id: id, action: 'vpn_service.deleted' }] };
    });
  }

  async addConnection(req: AddConnectionRequest): Promise<VpnConnectionView> {
    const generated = req.peer_public_key ? undefined : generateKeyPair();
    const publicKey = req.peer_public_key ?? generated!.publicKey;
    const view = await this.onService(req.vpn_service_id, async (tx, generation, service) => {
      const address = req.peer_address
        ? this.checkPeerAddress(req.peer_address, service.client_pool, service.gateway_address)
        : await this.repo.lowestFreeAddress(tx, service.id);
      if (!address)
        throw new QnetError(
          'aborted',
          `peer_address: no free address left in ${service.client_pool}`,
          [{ field: 'peer_address', message: 'client pool exhausted' }],
        );
      const id = await this.repo
        .insertConnection(tx, {
          vpn_service_id: service.id,
          name: req.name,
          peer_address: address,
          peer_public_key: publicKey,
          preshared_key_sealed: req.preshared_key ? this.secrets.seal(req.preshared_key) : null,
          generation,
        })
        .catch((err: unknown) => explainViolation(err, CONNECTION_CONSTRAINTS));
      return {
        result: connectionView(await this.repo.connection(tx, service.id, id)),
        audit: [
          {
            vpn_service_id: service.id,
            connection_id: id,
            action: 'connection.added',
            detail: `${req.name} at ${address} (${generated ? 'key pair generated' : 'client key'})`,
          },
        ],
      };
    });
    return generated ? { ...view, private_key: generated.privateKey } : view;
  }

  async listConnections(req: ListConnectionsRequest): Promise<ListConnectionsResponse> {
    await this.repo.hostOf(req.vpn_service_id);
    const page = await this.repo.listConnections(req.vpn_service_id, req);
    return { connections: page.items.map(connectionView), next_page_token: page.next_page_token };
  }

  async removeConnection(req: ConnectionRef): Promise<void> {
    await this.onService(req.vpn_service_id, async (tx) => {
      const c = await this.repo.connection(tx, req.vpn_service_id, req.connection_id);
      await this.repo.deleteConnection(tx, req.vpn_service_id, req.connection_id);
      return {
        result: undefined,
        audit: [
          {
            vpn_service_id: req.vpn_service_id,
            connection_id: c.id,
            action: 'connection.removed',
            detail: `${c.name} at ${c.peer_address}`,
          },
        ],
      };
    });
  }

  async clientConfig(req: ConnectionRef): Promise<ClientConfigView> {
    const tx = autocommit(this.ds);
    const s = await this.repo.service(tx, req.vpn_service_id);
    const c = await this.repo.connection(tx, s.id, req.connection_id);
    const config = renderClientConfig({
      name: c.name,
      peerAddress: c.peer_address,
      hasPresharedKey: c.preshared_key_sealed !== null,
      gatewayPublicKey: s.public_key,
      externalIp: s.external_ip,
      listenPort: s.listen_port,
      localSubnets: s.local_subnets,
    });
    return {
      connection_id: c.id,
      filename: configFilename(c.name),
      config,
      qr_svg: await qrSvg(config),
    };
  }

  /** A new client key (given, or generated and returned once); the old one stops working at once. */
  async rotateConnectionKey(req: RotateConnectionKeyRequest): Promise<VpnConnectionView> {
    const generated = req.peer_public_key ? undefined : generateKeyPair();
    const publicKey = req.peer_public_key ?? generated!.publicKey;
    const view = await this.updateConnection(
      req,
      { peer_public_key: publicKey },
      'connection.key_rotated',
    );
    return generated ? { ...view, private_key: generated.privateKey } : view;
  }

  async setPresharedKey(req: SetPresharedKeyRequest): Promise<PresharedKeyView> {
    const psk = req.preshared_key ?? generatePresharedKey();
    const view = await this.updateConnection(
      req,
      { preshared_key_sealed: this.secrets.seal(psk) },
      'connection.preshared_key_set',
    );
    return req.preshared_key ? view : { ...view, preshared_key: psk };
  }

  /** A new gateway key pair: every client needs the new public key (GetClientConfig again). */
  async rotateGatewayKey(serviceId: string): Promise<VpnServiceView> {
    const keys = generateKeyPair();
    return this.onService(serviceId, async (tx, generation) => {
      await this.repo.setGatewayKey(
        tx,
        serviceId,
        this.secrets.seal(keys.privateKey),
        keys.publicKey,
        generation,
      );
      return {
        result: await this.serviceIn(tx, serviceId),
        audit: [
          {
            vpn_service_id: serviceId,
            action: 'vpn_service.gateway_key_rotated',
            detail: keys.publicKey,
          },
        ],
      };
    });
  }

  private async updateConnection(
    ref: ConnectionRef,
    set: { peer_public_key?: string; preshared_key_sealed?: string },
    action: string,
  ): Promise<VpnConnectionView> {
    return this.onService(ref.vpn_service_id, async (tx, generation) => {
      const c = await this.repo.connection(tx, ref.vpn_service_id, ref.connection_id);
      await this.repo
        .updateConnection(tx, c.id, set, generation)
        .catch((err: unknown) => explainViolation(err, CONNECTION_CONSTRAINTS));
      return {
        result: connectionView(await this.repo.connection(tx, ref.vpn_service_id, c.id)),
        audit: [
          { vpn_service_id: ref.vpn_service_id, connection_id: c.id, action, detail: c.name },
        ],
      };
    });
  }

  /** A client address: inside the pool, not its network, broadcast or gateway address (409 otherwise). */
  private checkPeerAddress(given: string, poolText: string, gateway: string): string {
    const address = given.split('/')[0]!;
    const pool = parseCidr(poolText);
    const why = !cidrContainsIp(pool, address)
      ? `is outside the client pool ${pool.text}`
      : isNetworkOrBroadcast(pool, address)
        ? `is the network or broadcast address of ${pool.text}`
        : address === gateway.split('/')[0]
          ? "is the gateway's own address"
          : undefined;
    if (why)
      throw new QnetError('already_exists', `peer_address: ${given} ${why}`, [
        { field: 'peer_address', message: why },
      ]);
    return address;
  }

  private async serviceIn(tx: SqlTx, id: string): Promise<VpnServiceView> {
    return serviceView(await this.repo.service(tx, id), this.config.reportStaleMs);
  }

  /** A change to an existing service, its row locked for the transaction (404 if it is gone). */
  private async onService<T>(
    serviceId: string,
    fn: (
      tx: SqlTx,
      generation: number,
      service: Awaited<ReturnType<VpnRepository['service']>>,
    ) => Promise<Change<T>>,
  ): Promise<T> {
    const hostId = await this.repo.hostOf(serviceId);
    return this.change(hostId, async (tx, generation) =>
      fn(tx, generation, await this.repo.service(tx, serviceId, true)),
    );
  }

  /** One transaction: next generation, the change, its audit rows, the host's new state; then push and events. */
  private async change<T>(
    hostId: string,
    fn: (tx: SqlTx, generation: number) => Promise<Change<T>>,
  ): Promise<T> {
    const { result, audited, state } = await inTransaction(this.ds, async (tx) => {
      const generation = await this.repo.nextGeneration(tx, hostId);
      const { result, audit } = await fn(tx, generation);
      const audited: AuditEventView[] = [];
      for (const a of audit) audited.push(await this.auditLog.record(tx, a));
      return { result, audited, state: await this.desired.render(tx, hostId) };
    });
    this.desired.push(hostId, state);
    for (const e of audited) this.emit(e);
    return result;
  }

  /** An audit event as the domain event qnet.evt.vpn.<resource>.<event>. */
  emit(e: AuditEventView): void {
    const [resource, event] = e.action.split('.') as [string, string];
    this.events.emit('vpn', resource, event, e.connection_id || e.vpn_service_id, e);
  }
}
