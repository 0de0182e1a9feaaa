import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { NATS_CONNECTION } from '@qnet/bus';
import { registryNetwork } from '@qnet/service';
import {
  QnetError,
  WIREGUARD_INTERFACE_PREFIX,
  WIREGUARD_PORT,
  type CreateVpnServiceRequest,
  type ListVpnServicesRequest,
  type ListVpnServicesResponse,
  type VpnServiceView,
} from '@qnet/contracts';
import { addressAt, cidrsOverlap, parseCidr } from '@qnet/netaddr';
import {
  autocommit,
  DATA_SOURCE,
  explainViolation,
  ownerProject,
  type SqlTx,
} from '@qnet/persistence';
import type { SecretBox } from '@qnet/runtime';
import type { VpnConfig } from '../config.js';
import { SECRET_BOX, VPN_CONFIG } from '../tokens.js';
import { GatewayChanges } from './changes.js';
import { generateKeyPair } from './keys.js';
import { placeGateway } from './placement.js';
import { serviceView } from './views.js';
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

/** VPN services (gateways): create, read, delete, re-key. */
@Injectable()
export class GatewayService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(VPN_CONFIG) private readonly config: VpnConfig,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
    private readonly repo: VpnRepository,
    private readonly changes: GatewayChanges,
  ) {}

  async create(req: CreateVpnServiceRequest): Promise<VpnServiceView> {
    const pool = parseCidr(req.client_pool ?? this.config.defaultClientPool);
    if (pool.size < 4n)
      throw QnetError.invalid('client_pool', 'must hold the gateway and at least one client');
    const overlap = req.local_subnets.find((s) => cidrsOverlap(parseCidr(s), pool));
    if (overlap)
      throw QnetError.invalid('local_subnets', `${overlap} overlaps the client pool ${pool.text}`);
    const projectId = ownerProject(req.project_id);
    const network = await registryNetwork(this.nc, req.network_id, 'network_id');
    if (network.project_id !== projectId)
      throw new QnetError(
        'failed_precondition',
        `network_id: network ${network.id} belongs to project ${network.project_id}, not ${projectId}`,
        [{ field: 'network_id', message: `belongs to project ${network.project_id}` }],
      );
    const hostId = await placeGateway(
      this.nc,
      (ids) => this.repo.serviceCounts(ids),
      req.host_id,
      network.host_id,
    );
    const id = randomUUID();
    const keys = generateKeyPair();
    return this.changes.onHost(hostId, async (tx, generation) => {
      await this.repo
        .insertService(tx, {
          id,
          name: req.name,
          network_id: req.network_id,
          project_id: projectId,
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
      return {
        result: await this.viewIn(tx, id),
        audit: [{ vpn_service_id: id, action: 'vpn_service.created', detail: `on host ${hostId}` }],
      };
    });
  }

  get(id: string): Promise<VpnServiceView> {
    return this.viewIn(autocommit(this.ds), id);
  }

  async list(req: ListVpnServicesRequest): Promise<ListVpnServicesResponse> {
    const page = await this.repo.listServices(req);
    return {
      vpn_services: page.items.map((r) => serviceView(r, this.config.reportStaleMs)),
      next_page_token: page.next_page_token,
    };
  }

  async delete(id: string): Promise<void> {
    await this.changes.onService(id, async (tx) => {
      await this.repo.deleteService(tx, id);
      return { result: undefined, audit: [{ vpn_service_id: id, action: 'vpn_service.deleted' }] };
    });
  }

  /** A new gateway key pair: every client needs the new public key (GetClientConfig again). */
  async rotateKey(id: string): Promise<VpnServiceView> {
    const keys = generateKeyPair();
    return this.changes.onService(id, async (tx, generation) => {
      await this.repo.setGatewayKey(
        tx,
        id,
        this.secrets.seal(keys.privateKey),
        keys.publicKey,
        generation,
      );
      return {
        result: await this.viewIn(tx, id),
        audit: [
          { vpn_service_id: id, action: 'vpn_service.gateway_key_rotated', detail: keys.publicKey },
        ],
      };
    });
  }

  private async viewIn(tx: SqlTx, id: string): Promise<VpnServiceView> {
    return serviceView(await this.repo.service(tx, id), this.config.reportStaleMs);
  }
}
