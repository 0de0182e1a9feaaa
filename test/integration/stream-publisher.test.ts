import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureEventStream, NATS_USERS, StreamPublisher } from '@qnet/bus';
import { EVENTS_STREAM } from '@qnet/contracts';
import { TestCluster } from '@qnet/testing';

/**
 * The outbox relays its events with StreamPublisher: one inbox subscription collects the stream's
 * acknowledgements. Against a real NATS with JetStream: each message stored once, a repeat counted
 * as stored, and a subject no stream takes refused at once, not after the timeout.
 */
describe('StreamPublisher', () => {
  let cluster: TestCluster;
  let nc: NatsConnection;

  beforeAll(async () => {
    cluster = await TestCluster.create();
    nc = await cluster.connectAs(NATS_USERS.service('registry'));
    await ensureEventStream(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await cluster?.teardown();
  });

  it('stores each message once, and says at once when no stream takes one', async () => {
    const jsm = await jetstreamManager(nc);
    const stored = async () => (await jsm.streams.info(EVENTS_STREAM.name)).state.messages;
    const before = await stored();
    const publisher = new StreamPublisher(nc);
    const messages = [0, 1, 2].map((i) => ({
      subject: 'qnet.evt.registry.host.updated',
      payload: JSON.stringify({ i }),
      id: `stream-publisher-${i}`,
    }));
    await publisher.publish(messages, 2_000);
    await publisher.publish(messages, 2_000);
    expect(await stored()).toBe(before + 3);
    const last = await jsm.streams.getMessage(EVENTS_STREAM.name, { seq: before + 3 });
    expect(last?.json()).toEqual({ i: 2 });

    const started = Date.now();
    await expect(
      publisher.publish(
        [{ subject: 'qnet.rpc.lb.NobodyHere', payload: '{}', id: 'stream-publisher-x' }],
        2_000,
      ),
    ).rejects.toThrow('no stream stores qnet.rpc.lb.NobodyHere');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
