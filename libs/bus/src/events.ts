import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { EVENTS_STREAM, makeEvent, type BusServiceId, type EventEnvelope } from '@qnet/contracts';
import { currentContext } from '@qnet/runtime';
import { encodeJson } from './codec.js';
import { NATS_CONNECTION } from './tokens.js';

/** Creates the QNET_EVENTS stream, or brings an existing one to the expected config. Idempotent. */
export async function ensureEventStream(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    subjects: [...EVENTS_STREAM.subjects],
    max_age: EVENTS_STREAM.maxAgeMs * 1_000_000,
    duplicate_window: 120 * 1_000_000_000,
  };
  try {
    await jsm.streams.info(EVENTS_STREAM.name);
    await jsm.streams.update(EVENTS_STREAM.name, config);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await jsm.streams.add({ name: EVENTS_STREAM.name, ...config });
    } catch (addErr) {
      // Another service created it between our info and add: that is the state we wanted.
      if (!/already in use|already exists/i.test(String(addErr))) throw addErr;
    }
  }
}

function isNotFound(err: unknown): boolean {
  return /not found/i.test(String((err as Error)?.message ?? err));
}

/**
 * Publishes domain events into JetStream as plain JSON envelopes, after the change they describe
 * has been committed. The event id doubles as the JetStream message id, so a retried publish is
 * stored once. The caller is not held until the stream acknowledges: the event leaves in the same
 * socket write as the reply, and the acknowledgement is checked in the background — a missing one
 * is logged and retried once. (A crash in that window loses the event; the database stays the
 * source of truth.)
 */
@Injectable()
export class EventPublisher {
  private readonly js: JetStreamClient;
  private readonly logger = new Logger('EventPublisher');

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    this.js = jetstream(nc);
  }

  emit<T>(
    service: BusServiceId,
    resource: string,
    event: string,
    resourceId: string,
    data: T,
  ): EventEnvelope<T> {
    const { subject, envelope } = makeEvent(
      service,
      resource,
      event,
      resourceId,
      data,
      currentContext()?.requestId,
    );
    const payload = encodeJson(envelope);
    const publish = () => this.js.publish(subject, payload, { msgID: envelope.id });
    publish()
      .catch(() => publish())
      .catch((err: unknown) =>
        this.logger.error(`event ${envelope.type} ${envelope.id} was not stored: ${String(err)}`),
      );
    return envelope;
  }
}
