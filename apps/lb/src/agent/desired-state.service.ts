import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import { NATS_CONNECTION, pushDesiredState, type DesiredStateSource } from '@qnet/bus';
import type { DesiredState, LbRealization, LbSpec } from '@qnet/contracts';
import { autocommit, DATA_SOURCE, type SqlTx } from '@qnet/persistence';
import { LbRepository, type Balancer, type LbDriver } from '../balancers/lb.repository.js';
import { healthCheckOf } from '../balancers/views.js';

export type HostState = DesiredState<LbSpec>;

/** What one host's driver realizes: its load balancers with their enabled members. */
export function realization(b: Balancer): LbRealization {
  const hc = b.health_check;
  return {
    id: b.lb.id,
    vip: b.lb.vip,
    algorithm: b.lb.algorithm,
    network_cidr: b.lb.network_cidr,
    logical_switch: b.lb.logical_switch,
    listeners: b.listeners.map((l) => ({ port: l.port, protocol: l.protocol })),
    members: b.members
      .filter((m) => m.admin_state_up)
      .map((m) => ({
        id: m.id,
        address: m.address,
        port: m.port,
        weight: m.weight,
        ...(m.logical_port ? { logical_port: m.logical_port } : {}),
      })),
    ...(hc ? { health_check: healthCheckOf(hc) } : {}),
  };
}

/** Renders a host's `lb_nft` / `lb_ovn` desired state and sends it to its agent (DESIGN §4). */
@Injectable()
export class DesiredStateService {
  private readonly logger = new Logger(DesiredStateService.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly repo: LbRepository,
  ) {}

  /** After the change that rendered `state` committed; a lost push is repaired by the agent's pull. */
  push(hostId: string, state: DesiredState): void {
    pushDesiredState(this.nc, hostId, state, (m) => this.logger.warn(m));
  }

  async render(tx: SqlTx, hostId: string, driver: LbDriver): Promise<HostState> {
    const [host] = await tx.rows<{ generation: string }>(
      `SELECT generation FROM lb_hosts WHERE host_id = $1 AND driver = $2`,
      [hostId, driver],
    );
    const balancers = await this.repo.onHost(tx, hostId, driver);
    return {
      driver,
      generation: Number(host?.generation ?? 0),
      spec: { load_balancers: balancers.map(realization) },
    };
  }

  current(hostId: string, driver: LbDriver): Promise<HostState> {
    return this.render(autocommit(this.ds), hostId, driver);
  }
}

/** The agent's pull of one driver's state (one agentDriverController per driver). */
function sourceFor(driver: LbDriver) {
  @Injectable()
  class DriverSource implements DesiredStateSource {
    constructor(readonly desired: DesiredStateService) {}
    current(hostId: string) {
      return this.desired.current(hostId, driver);
    }
  }
  return DriverSource;
}

export const NftDesiredState = sourceFor('lb_nft');
export const OvnDesiredState = sourceFor('lb_ovn');
