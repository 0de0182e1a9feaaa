import { randomUUID } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { busRequest, NATS_USERS } from '@qnet/bus';
import {
  EVENTS_STREAM,
  Subjects,
  type EventEnvelope,
  type HostView,
  type NetworkView,
} from '@qnet/contracts';
import { KILL_AFTER_COMMIT_ENV } from '@qnet/service';
import { TestCluster } from '@qnet/testing';
import { waitFor } from '@qnet/stack';

const CREATED = Subjects.event('registry', 'network', 'created');
const HOST_UPDATED = Subjects.event('registry', 'host', 'updated');
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

  // A change of one statement writes its event's row in that statement (built in SQL from the
  // changed row): what a crash leaves behind must be the event the live relay would have sent.
  it('delivers the event of a one-statement change, built in SQL, as the API shows the row', async () => {
    await cluster.db.query(
      `INSERT INTO network_registry.hosts (id, hostname, underlay_ip, mode, agent_version)
       VALUES ('h-doomed', 'doomed', '192.0.2.7', 'dry-run', 'test')`,
    );
    await cluster.stop('network-registry');
    const doomed = cluster.start('network-registry', undefined, {
      [KILL_AFTER_COMMIT_ENV]: HOST_UPDATED,
    });
    await cluster.waitForService('registry');
    const gateway = await cluster.connectAs(NATS_USERS.gateway);
    const update = busRequest<HostView>(
      gateway,
      Subjects.rpc('registry', 'UpdateHost'),
      { host_id: 'h-doomed', description: TRICKY, labels: { rack: 'r1' } },
      { timeoutMs: 2_000 },
    );
    await expect(update).rejects.toMatchObject({ code: 'deadline_exceeded' });
    await doomed.exited;
    expect(doomed.child.signalCode).toBe('SIGKILL');
    expect(await outboxRows()).toBe(1);
    expect(await storedOn(HOST_UPDATED)).toBe(0);

    cluster.start('network-registry');
    await waitFor(async () => (await storedOn(HOST_UPDATED)) === 1, 15_000, 'the event relayed');
    const msg = await jsm.streams.getMessage(EVENTS_STREAM.name, { last_by_subj: HOST_UPDATED });
    const event = msg!.json<EventEnvelope<HostView>>();
    const view = await busRequest<HostView>(gateway, Subjects.rpc('registry', 'GetHost'), {
      host_id: 'h-doomed',
    });
    expect(event).toMatchObject({ type: 'registry.host.updated', resource_id: 'h-doomed' });
    expect(event.project_id).toBeUndefined();
    expect(event.data).toEqual(view);
    expect(view).toMatchObject({ description: TRICKY, labels: { rack: 'r1' } });
    expect(view.registered_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // No such host: a 404, and neither a row nor an event.
    await expect(
      busRequest(gateway, Subjects.rpc('registry', 'UpdateHost'), { host_id: 'h-none' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    await waitFor(async () => (await outboxRows()) === 0, 5_000, 'the outbox row deleted');
    expect(await storedOn(HOST_UPDATED)).toBe(1);
  }, 60_000);
});
