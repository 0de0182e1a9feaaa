import { Injectable } from '@nestjs/common';
import type {
  HealthCheckView,
  LbHealthCheckRealization,
  LbRealization,
  LbSpec,
} from '@qnet/contracts';
import type { SqlTx } from '@qnet/persistence';
import { renderEach, type DriverRenderer } from '@qnet/service';
import { LbRepository, type Balancer, type LbDriver } from '../balancers/lb.repository.js';
import { healthCheckOf } from '../balancers/views.js';

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
    ...(hc ? { health_check: healthCheckRealization(healthCheckOf(hc)) } : {}),
  };
}

/** Without a port of its own the check probes each member's: the field is left out, not null. */
function healthCheckRealization({ port, ...rest }: HealthCheckView): LbHealthCheckRealization {
  return port === null ? rest : { ...rest, port };
}

/** Renders a host's `lb_nft` / `lb_ovn` desired state: the balancers placed there for it. */
function rendererFor(driver: LbDriver) {
  @Injectable()
  class LbRenderer implements DriverRenderer<LbSpec> {
    constructor(readonly repo: LbRepository) {}

    render(tx: SqlTx, hostIds: readonly string[]): Promise<LbSpec[]> {
      return renderEach(hostIds, async (id) => ({
        load_balancers: (await this.repo.onHost(tx, id, driver)).map(realization),
      }));
    }
  }
  return LbRenderer;
}

export const NftRenderer = rendererFor('lb_nft');
export const OvnRenderer = rendererFor('lb_ovn');
