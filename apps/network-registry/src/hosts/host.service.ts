import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { EventPublisher } from '@qnet/bus';
import type {
  HeartbeatReply,
  HeartbeatRequest,
  HostView,
  ListHostsRequest,
  Page,
  RegisterHostReply,
  RegisterHostRequest,
  UpdateHostRequest,
} from '@qnet/contracts';
import { HostRepository } from './host.repository.js';
import { HOST_SWEEP_INTERVAL } from './tokens.js';

/** Hosts and their health: registration, heartbeats, operator updates, health transitions as events. */
@Injectable()
export class HostService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HostService.name);
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly repo: HostRepository,
    private readonly events: EventPublisher,
    @Inject(HOST_SWEEP_INTERVAL) private readonly sweepIntervalMs: number,
  ) {}

  async register(req: RegisterHostRequest): Promise<RegisterHostReply> {
    const { host, created } = await this.repo.register(req);
    this.events.emit('registry', 'host', created ? 'registered' : 'reregistered', host.id, host);
    return { host_id: host.id, health: host.health, created };
  }

  async heartbeat(req: HeartbeatRequest): Promise<HeartbeatReply> {
    const seen = await this.repo.heartbeat(req);
    if (!seen) return { known: false };
    if (seen.previous !== 'healthy') {
      this.events.emit('registry', 'host', 'health_changed', req.host_id, {
        previous: seen.previous,
        health: 'healthy',
      });
    }
    return { known: true };
  }

  list(req: ListHostsRequest): Promise<Page<HostView>> {
    return this.repo.list(req);
  }

  get(id: string): Promise<HostView> {
    return this.repo.get(id);
  }

  async update(req: UpdateHostRequest): Promise<HostView> {
    const host = await this.repo.update(req);
    this.events.emit('registry', 'host', 'updated', host.id, host);
    return host;
  }

  async sweep(): Promise<void> {
    for (const t of await this.repo.sweepHealth()) {
      this.logger.log(`host ${t.id} is ${t.health} (was ${t.previous})`);
      this.events.emit('registry', 'host', 'health_changed', t.id, {
        previous: t.previous,
        health: t.health,
      });
    }
  }

  onApplicationBootstrap(): void {
    this.sweeper = setInterval(() => {
      this.sweep().catch((err: unknown) =>
        this.logger.error(err instanceof Error ? err : String(err)),
      );
    }, this.sweepIntervalMs);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }
}
