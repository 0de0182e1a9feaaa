import { randomUUID } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { busRequest, NATS_USERS } from '@qnet/bus';
import { EVENTS_STREAM, Subjects, type EventEnvelope, type NetworkView } from '@qnet/contracts';
import { KILL_AFTER_COMMIT_ENV } from '@qnet/service';
import { TestCluster } from '@qnet/testing';
import { waitFor } from '@qnet/stack';

const CREATED = Subjects.event('registry', 'network', 'created');
const TRICKY = `O'Brien's \\ "net" \\n ✓ 🐧 $$ ;--`;

/**
 * Events leave through the transactional outbox: a service killed (SIGKILL) between committing a
 * change and relaying its event still delivers it — once — after it comes back.
 */
describe('transactional outbox', () => {
  let cluster: TestCluster;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    cluster = await TestCluster.create();
    jsm = await jetstreamManager(await cluster.connectAs(NATS_USERS.observer));
  }, 60_000);

  afterAll(() => cluster?.teardown(), 60_000);

  const storedOn = async (subject: string) =>
    (await jsm.streams.info(EVENTS_STREAM.name, { subjects_filter: subject })).state.subjects?.[
      subject
    ] ?? 0;

  const outboxRows = async () =>
    Number(
      (
        await cluster.db.query<{ n: string }>(`SELECT count(*) AS n FROM network_registry.outbox`)
      )[0]!.n,
    );

  it('delivers the event of a change committed just before the service was killed, once', async () => {
    const doomed = cluster.start('network-registry', undefined, {
      [KILL_AFTER_COMMIT_ENV]: CREATED,
    });
    await cluster.waitForService('registry');
    const gateway = await cluster.connectAs(NATS_USERS.gateway);
    const create = busRequest<NetworkView>(
      gateway,
      Subjects.rpc('registry', 'CreateNetwork'),
      { name: 'survivor', description: TRICKY, bridge_name: 'br-survivor', cidr: '10.77.0.0/24' },
      { timeoutMs: 2_000 },
    );
    await expect(create).rejects.toMatchObject({ code: 'deadline_exceeded' });
    await doomed.exited;
    expect(doomed.child.signalCode).toBe('SIGKILL');

    // Committed, not relayed: the network exists, its event waits in the outbox, none is stored.
    const [row] = await cluster.db.query<{ id: string }>(
      `SELECT id FROM network_registry.networks WHERE name = 'survivor'`,
    );
    expect(row).toBeDefined();
    expect(await outboxRows()).toBe(1);
    expect(await storedOn(CREATED)).toBe(0);

    cluster.start('network-registry');
    await waitFor(async () => (await storedOn(CREATED)) === 1, 15_000, 'the event relayed');
    await waitFor(async () => (await outboxRows()) === 0, 5_000, 'the outbox row deleted');
    const msg = await jsm.streams.getMessage(EVENTS_STREAM.name, { last_by_subj: CREATED });
    const event = msg!.json<EventEnvelope<NetworkView>>();
    expect(event.resource_id).toBe(row!.id);
    expect(event.data.name).toBe('survivor');
    expect(event.data.description).toBe(TRICKY); // the row is written as quoted SQL literals

    // A relay that repeats itself (a crash after publishing, before deleting) stores nothing new.
    await cluster.db.query(`INSERT INTO network_registry.outbox (id, events) VALUES ($1, $2)`, [
      randomUUID(),
      JSON.stringify([{ subject: CREATED, envelope: event }]),
    ]);
    await waitFor(async () => (await outboxRows()) === 0, 10_000, 'the repeated row relayed');
    expect(await storedOn(CREATED)).toBe(1);
  }, 60_000);
});
