import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { NATS_CONNECTION, request } from '@qnet/bus';
import { placeOnHost, registryNetwork } from '@qnet/service';
import {
  logicalSwitchOf,
  PROVIDER_ALGORITHMS,
  QnetError,
  RegistryAddressRpc,
  type CreateLoadBalancerRequest,
  type LbAlgorithm,
  type LbProvider,
  type ListLoadBalancersRequest,
  type ListLoadBalancersResponse,
  type LoadBalancerStatsView,
  type LoadBalancerView,
  type SetHealthCheckRequest,
  type UpdateLoadBalancerRequest,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE, explainViolation, listedProject } from '@qnet/persistence';
import type { LbConfig } from '../config.js';
import { providerRule } from '../placement/placement.js';
import { LB_CONFIG } from '../tokens.js';
import { LbChanges } from './changes.js';
import { driverOf, LbRepository } from './lb.repository.js';
import { balancerView, memberOperating } from './views.js';

const BALANCER_CONSTRAINTS = {
  load_balancers_name: {
    field: 'name',
    message: 'a load balancer of this name exists in the project',
  },
  load_balancers_vip: { field: 'vip', message: 'is the VIP of another load balancer' },
};

/** 412 when the provider cannot balance by the algorithm (Octavia's provider capability matrix). */
export function checkAlgorithm(provider: LbProvider, algorithm: LbAlgorithm): void {
  const supported = PROVIDER_ALGORITHMS[provider];
  if (!supported.includes(algorithm))
    throw new QnetError(
      'failed_precondition',
      `algorithm: the ${provider} provider cannot do ${algorithm}; it supports ${supported.join(', ')}`,
      [{ field: 'algorithm', message: `${provider} supports ${supported.join(', ')}` }],
    );
}

/** Load balancers: a VIP reserved in the registry's IPAM, realized on one host by its provider. */
@Injectable()
export class BalancerService {
  private readonly logger = new Logger(BalancerService.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LB_CONFIG) private readonly config: LbConfig,
    private readonly repo: LbRepository,
    private readonly changes: LbChanges,
  ) {}

  async create(req: CreateLoadBalancerRequest): Promise<LoadBalancerView> {
    const provider = req.provider ?? this.config.defaultProvider;
    const algorithm = req.algorithm ?? 'ROUND_ROBIN';
    checkAlgorithm(provider, algorithm);
    const network = await registryNetwork(this.nc, req.network_id, 'network_id');
    const projectId = listedProject(req.project_id) ?? network.project_id;
    if (projectId !== network.project_id)
      throw new QnetError(
        'failed_precondition',
        `network_id: network ${network.id} belongs to project ${network.project_id}, not ${projectId}`,
        [{ field: 'network_id', message: `belongs to project ${network.project_id}` }],
      );
    if (!network.cidr)
      throw new QnetError('failed_precondition', `network_id: network ${network.id} has no cidr`, [
        { field: 'network_id', message: 'the network has no cidr for a VIP' },
      ]);
    const hostId = await placeOnHost(
      this.nc,
      { ...providerRule(provider, (ids) => this.repo.countsOn(ids)), only: network.host_id },
      req.host_id,
    );
    const id = randomUUID();
    const reserved = await request(this.nc, RegistryAddressRpc.ReserveAddress, {
      network_id: network.id,
      owner_id: id,
      field: 'vip',
      ...(req.vip ? { address: req.vip } : {}),
    });
    const driver = driverOf(provider);
    try {
      return await this.changes.onHosts([{ host_id: hostId, driver }], async (tx, generationOf) => {
        await this.repo
          .insertBalancer(
            tx,
            {
              id,
              name: req.name,
              project_id: projectId,
              description: req.description ?? '',
              labels: req.labels ?? {},
              network_id: network.id,
              network_cidr: reserved.cidr,
              logical_switch: logicalSwitchOf(network),
              vip: reserved.address,
              algorithm,
              protocol: req.protocol ?? 'TCP',
              provider,
              host_id: hostId,
              driver,
            },
            generationOf({ host_id: hostId, driver }),
          )
          .catch((err: unknown) => explainViolation(err, BALANCER_CONSTRAINTS));
        const view = balancerView(await this.repo.full(tx, id));
        return {
          result: view,
          events: [{ resource: 'load_balancer', event: 'created', id, data: view }],
        };
      });
    } catch (err) {
      await this.release(network.id, reserved.address, id);
      throw err;
    }
  }

  async get(id: string): Promise<LoadBalancerView> {
    return balancerView(await this.repo.full(autocommit(this.ds), id));
  }

  async list(req: ListLoadBalancersRequest): Promise<ListLoadBalancersResponse> {
    const page = await this.repo.list(req);
    return { load_balancers: page.items.map(balancerView), next_page_token: page.next_page_token };
  }

  async update(req: UpdateLoadBalancerRequest): Promise<LoadBalancerView> {
    return this.changes.onBalancer(req.id, async (tx, lb) => {
      if (req.algorithm) checkAlgorithm(lb.provider, req.algorithm);
      await this.repo
        .update(tx, lb.id, {
          name: req.name,
          description: req.description,
          algorithm: req.algorithm,
        })
        .catch((err: unknown) => explainViolation(err, BALANCER_CONSTRAINTS));
      const view = balancerView(await this.repo.full(tx, lb.id));
      return {
        result: view,
        events: [{ resource: 'load_balancer', event: 'updated', id: lb.id, data: view }],
      };
    });
  }

  /** Its listeners, members and health check go with it; its VIP goes back to the registry. */
  async delete(id: string): Promise<void> {
    const lb = await this.changes.onBalancer(id, async (tx, lb) => {
      await this.repo.deleteBalancer(tx, id);
      return {
        result: lb,
        events: [
          {
            resource: 'load_balancer',
            event: 'deleted',
            id,
            data: { host_id: lb.host_id, vip: lb.vip, network_id: lb.network_id },
          },
        ],
      };
    });
    await this.release(lb.network_id, lb.vip, id);
  }

  async setHealthCheck(req: SetHealthCheckRequest): Promise<LoadBalancerView> {
    const hc = req.health_check;
    if (hc && hc.timeout_sec > hc.interval_sec)
      throw QnetError.invalid('health_check.timeout_sec', 'must not exceed interval_sec');
    return this.changes.onBalancer(req.load_balancer_id, async (tx, lb) => {
      await this.repo.setHealthCheck(tx, lb.id, hc ? { ...hc, port: hc.port ?? null } : undefined);
      const view = balancerView(await this.repo.full(tx, lb.id));
      return {
        result: view,
        events: [
          {
            resource: 'health_check',
            event: hc ? 'set' : 'removed',
            id: lb.id,
            data: { load_balancer_id: lb.id, health_check: view.health_check },
          },
        ],
      };
    });
  }

  async stats(id: string): Promise<LoadBalancerStatsView> {
    const b = await this.repo.full(autocommit(this.ds), id);
    const monitored = b.health_check !== undefined;
    const members = b.members.map((m) => ({
      member_id: m.id,
      active_connections: m.active_connections,
      total_connections: m.total_connections,
      operating_status: memberOperating(m, monitored),
    }));
    return {
      load_balancer_id: id,
      active_connections: members.reduce((n, m) => n + m.active_connections, 0),
      total_connections: members.reduce((n, m) => n + m.total_connections, 0),
      bytes_in: b.lb.bytes_in,
      bytes_out: b.lb.bytes_out,
      members,
      observed_at: b.lb.observed_at?.toISOString() ?? '',
    };
  }

  private async release(networkId: string, address: string, ownerId: string): Promise<void> {
    try {
      await request(this.nc, RegistryAddressRpc.ReleaseAddress, {
        network_id: networkId,
        address,
        owner_id: ownerId,
      });
    } catch (err) {
      this.logger.warn(`releasing VIP ${address} of ${ownerId} failed`, err);
    }
  }
}
