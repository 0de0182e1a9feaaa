import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  QnetError,
  type HeartbeatReply,
  type HeartbeatRequest,
  type HostHealth,
  type HostView,
  type ListHostsRequest,
  type Page,
  type RegisterHostReply,
  type RegisterHostRequest,
  type UpdateHostRequest,
} from '@qnet/contracts';
import { Outbox } from '@qnet/service';
import { HostRepository } from './host.repository.js';
import { HOST_SWEEP_INTERVAL } from './tokens.js';

/** Hosts and their health: registration, heartbeats, operator updates, health transitions as events. */
@Injectable()
export class HostService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HostService.name);
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly repo: HostRepository,
    private readonly outbox: Outbox,
    @Inject(HOST_SWEEP_INTERVAL) private readonly sweepIntervalMs: number,
  ) {}

  register(req: RegisterHostRequest): Promise<RegisterHostReply> {
    return this.outbox.transaction(async (tx, out) => {
      const { host, created } = await this.repo.register(tx, req);
      out.event({
        resource: 'host',
        event: created ? 'registered' : 'reregistered',
        id: host.id,
        data: host,
      });
      return { host_id: host.id, health: host.health, created };
    });
  }

  heartbeat(req: HeartbeatRequest): Promise<HeartbeatReply> {
    return this.outbox.transaction(async (tx, out) => {
      const seen = await this.repo.heartbeat(tx, req);
      if (!seen) return { known: false };
      if (seen.previous !== 'healthy')
        out.event(healthChanged(req.host_id, seen.previous, 'healthy'));
      return { known: true };
    });
  }

  list(req: ListHostsRequest): Promise<Page<HostView>> {
    return this.repo.list(req);
  }

  get(id: string): Promise<HostView> {
    return this.repo.get(id);
  }

  async update(req: UpdateHostRequest): Promise<HostView> {
    const event = { resource: 'host', event: 'updated', id: req.host_id, project: undefined };
    const host = await this.outbox.change(this.repo.update(req), event);
    if (!host) throw QnetError.notFound('host', req.host_id);
    return host;
  }

  async sweep(): Promise<void> {
    await this.outbox.transaction(async (tx, out) => {
      for (const t of await this.repo.sweepHealth(tx)) {
        this.logger.log(`host ${t.id} is ${t.health} (was ${t.previous})`);
        out.event(healthChanged(t.id, t.previous, t.health));
      }
    });
  }

  onApplicationBootstrap(): void {
    this.sweeper = setInterval(() => {
      this.sweep().catch((err: unknown) => this.logger.error('health sweep failed', err));
    }, this.sweepIntervalMs);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }
}

const healthChanged = (id: string, previous: HostHealth, health: HostHealth) => ({
  resource: 'host',
  event: 'health_changed',
  id,
  data: { previous, health },
});
