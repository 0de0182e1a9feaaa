import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import { EVENTS_STREAM } from '@qnet/contracts';

/**
 * Creates the QNET_EVENTS stream, or brings an existing one to the expected config. Idempotent. A
 * JetStream that is not ready yet (a cluster still electing its meta leader answers timeouts and
 * "not enabled") is waited for, up to `waitMs`.
 */
export async function ensureEventStream(
  nc: NatsConnection,
  replicas = 1,
  waitMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await putEventStream(nc, replicas);
    } catch (err) {
      const transient =
        /timeout|not enabled|no responders|temporarily unavailable|no suitable peers/i;
      if (Date.now() > deadline || !transient.test(String((err as Error)?.message ?? err)))
        throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function putEventStream(nc: NatsConnection, replicas: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    subjects: [...EVENTS_STREAM.subjects],
    max_age: EVENTS_STREAM.maxAgeMs * 1_000_000,
    duplicate_window: 120 * 1_000_000_000,
    // On a NATS cluster, copies on that many servers: the stream outlives a server's loss.
    num_replicas: replicas,
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
 * The messages of a durable consumer of the events stream, shared by every instance of a service
 * (at least once, in order; each message acked, nak'ed or term'ed by the caller): nothing
 * published while the service was down is missed.
 */
export async function followEvents(
  nc: NatsConnection,
  durable: string,
  filterSubject: string,
  maxMessages: number,
): Promise<ConsumerMessages> {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(EVENTS_STREAM.name, {
    durable_name: durable,
    filter_subject: filterSubject,
    ack_policy: 'explicit',
    deliver_policy: 'all',
    max_deliver: -1,
    ack_wait: 30_000_000_000,
  });
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM.name, durable);
  return consumer.consume({ max_messages: maxMessages });
}
