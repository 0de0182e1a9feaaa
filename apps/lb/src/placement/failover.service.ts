import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_CONNECTION } from '@qnet/bus';
import { allPages, placeOnHost, registryNetwork } from '@qnet/service';
import { QnetError, RegistryHostRpc, type HostHealth } from '@qnet/contracts';
import { LbChanges } from '../balancers/changes.js';
import { LbRepository } from '../balancers/lb.repository.js';
import type { LbConfig } from '../config.js';
import { LB_CONFIG } from '../tokens.js';
import { providerRule } from './placement.js';

/**
 * Follows host health: a load balancer whose host stopped being healthy is re-placed on a healthy
 * host with its provider's capability, so its VIP follows. The old host drops it when it pulls
 * its desired state on return.
 */
@Injectable()
export class FailoverService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(FailoverService.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LB_CONFIG) private readonly config: LbConfig,
    private readonly repo: LbRepository,
    private readonly changes: LbChanges,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.failoverSweepMs);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const inUse = new Set(await this.repo.hostsInUse());
      if (!inUse.size) return;
      const unhealthy: string[] = [];
      for (const health of ['degraded', 'offline'] satisfies HostHealth[])
        unhealthy.push(...(await this.hostsWith(health)).filter((h) => inUse.has(h)));
      for (const id of await this.repo.idsOnHosts(unhealthy)) await this.replace(id);
    } catch (err) {
      this.logger.warn('failover sweep failed', err);
    } finally {
      this.running = false;
    }
  }

  /** Moves one LB off its (unhealthy) host; stays put when no other host qualifies. */
  async replace(id: string): Promise<void> {
    const from = await this.repo.placementOf(id);
    let to: string;
    try {
      const network = await registryNetwork(this.nc, from.network_id, 'network_id');
      to = await placeOnHost(this.nc, {
        ...providerRule(from.provider, (ids) => this.repo.countsOn(ids), [from.host_id]),
        only: network.host_id,
      });
    } catch (err) {
      if (err instanceof QnetError && err.code === 'failed_precondition') {
        this.logger.warn(
          `load balancer ${id} stays on unhealthy host ${from.host_id}: ${err.message}`,
        );
        return;
      }
      throw err;
    }
    const target = { host_id: to, driver: from.driver };
    const source = { host_id: from.host_id, driver: from.driver };
    await this.changes.onHosts([source, target], async (tx, generationOf) => {
      const cur = await this.repo.balancer(tx, id, true);
      if (cur.host_id !== from.host_id) return { result: undefined, events: [] };
      await this.repo.update(tx, id, { host_id: to });
      await this.repo.touch(tx, id, generationOf(target));
      this.logger.log(`load balancer ${id} (VIP ${cur.vip}) moves from ${from.host_id} to ${to}`);
      return {
        result: undefined,
        events: [
          {
            resource: 'load_balancer',
            event: 'failed_over',
            id,
            data: { from_host_id: from.host_id, to_host_id: to, vip: cur.vip },
          },
        ],
      };
    });
  }

  private async hostsWith(health: HostHealth): Promise<string[]> {
    const ids: string[] = [];
    for await (const page of allPages(this.nc, RegistryHostRpc.ListHosts, { health }))
      ids.push(...page.hosts.map((h) => h.id));
    return ids;
  }
}
