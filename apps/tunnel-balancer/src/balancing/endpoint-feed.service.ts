import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ConsumerMessages } from '@nats-io/jetstream';
import { followEvents, NATS_CONNECTION } from '@qnet/bus';
import {
  Subjects,
  type DeviceView,
  type EventEnvelope,
  type TunnelFailedEvent,
} from '@qnet/contracts';
import { BalancerService } from './balancer.service.js';

type DeviceEvent = Pick<DeviceView, 'device_id'> &
  Partial<Pick<DeviceView, 'type'> & Pick<TunnelFailedEvent, 'failed_router_ids'>>;

/** A durable consumer shared by every balancer instance: nothing registered while we were down is missed. */
export const ENDPOINT_FEED_CONSUMER = 'tunnel-balancer-endpoints';

/**
 * The balancer decides for the endpoints the device controller registered. It follows the
 * controller's device events through a durable JetStream consumer (at-least-once, so every
 * operation is idempotent) and acknowledges each event once the endpoint has its first decision
 * — or, for an endpoint whose tunnels failed, once it has been given other routers.
 */
@Injectable()
export class EndpointFeedService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EndpointFeed');
  private messages?: ConsumerMessages;
  private done?: Promise<void>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly balancer: BalancerService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.messages = await followEvents(
      this.nc,
      ENDPOINT_FEED_CONSUMER,
      Subjects.event('device', 'device', '*'),
      256,
    );
    this.done = (async () => {
      for await (const m of this.messages!) {
        let event: EventEnvelope<DeviceEvent>;
        try {
          event = m.json();
          if (typeof event?.data?.device_id !== 'string') throw new Error('no data.device_id');
        } catch (err) {
          this.logger.warn(`dropping malformed device event ${m.subject}`, err);
          m.term();
          continue;
        }
        try {
          await this.apply(m.subject, event);
          m.ack();
        } catch (err) {
          this.logger.warn(`device event ${m.subject} not applied, redelivering`, err);
          m.nak(1_000);
        }
      }
    })();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.messages?.close();
    await this.done;
  }

  private async apply(subject: string, event: EventEnvelope<DeviceEvent>): Promise<void> {
    const verb = subject.split('.').pop();
    const d = event.data;
    if (verb === 'tunnel_failed' && Array.isArray(d.failed_router_ids))
      await this.balancer.tunnelsFailed(d.device_id, d.failed_router_ids);
    if (d.type !== 'endpoint') return;
    if (verb === 'registered') await this.balancer.addEndpoint(d.device_id);
    else if (verb === 'deleted') await this.balancer.removeEndpoint(d.device_id);
  }
}
