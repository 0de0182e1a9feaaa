import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { busRequest, encodeJson } from '@qnet/bus';
import {
  EVENTS_STREAM,
  type ApplyResult,
  type DriverStatus,
  type EventEnvelope,
} from '@qnet/contracts';
import { TestCluster } from '@qnet/testing';
import { waitFor } from '@qnet/stack';

const FAST = {
  HEARTBEAT_INTERVAL_MS: '300',
  RESYNC_INTERVAL_MS: '500',
  HOST_HEALTHY_WINDOW_MS: '1000',
  HOST_OFFLINE_AFTER_MS: '2000',
  HOST_SWEEP_INTERVAL_MS: '100',
};

describe('node agent lifecycle against the registry', () => {
  let cluster: TestCluster;
  let control: NatsConnection;
  const health = async (id: string) =>
    (
      await cluster.db.query<{ health: string }>(
        `SELECT health FROM network_registry.hosts WHERE id = $1`,
        [id],
      )
    )[0]?.health;

  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: ['lc-1'], env: FAST });
    await cluster.startServices(['registry']);
    control = await cluster.connectAs('network-registry');
  });
  afterAll(() => cluster.teardown());

  it('registers with its capabilities and identity', async () => {
    cluster.start('node-agent', { hostId: 'lc-1', mode: 'dry-run' });
    await waitFor(async () => (await health('lc-1')) === 'healthy', 10_000, 'registration');
    const [host] = await cluster.db.query<{
      mode: string;
      capabilities: string[];
      drivers: string[];
    }>(`SELECT mode, capabilities, drivers FROM network_registry.hosts WHERE id = 'lc-1'`);
    expect(host).toMatchObject({
      mode: 'dry-run',
      drivers: ['linux', 'wireguard', 'frr', 'lb_nft', 'lb_ovn'],
    });
    expect(host!.capabilities).toContain('bridge');
  });

  it('heartbeats move last_seen forward', async () => {
    const seen = async () =>
      (
        await cluster.db.query<{ t: Date }>(
          `SELECT last_seen_at AS t FROM network_registry.hosts WHERE id = 'lc-1'`,
        )
      )[0]!.t.getTime();
    const before = await seen();
    await waitFor(async () => (await seen()) > before, 3_000, 'a heartbeat');
  });

  it('answers ping and applies desired state sent as a command, idempotently (dry-run records only)', async () => {
    const ping = await busRequest<{ host_id: string; mode: string }>(
      control,
      'qnet.agent.lc-1.cmd.ping',
      {},
    );
    expect(ping).toMatchObject({ host_id: 'lc-1', mode: 'dry-run' });

    const statuses: DriverStatus[] = [];
    control.subscribe('qnet.agent.lc-1.status.linux', {
      callback: (_e, m) => void statuses.push(m.json<DriverStatus>()),
    });
    const desired = {
      driver: 'linux',
      generation: 5,
      spec: { bridges: [{ name: 'fcbr0', mtu: 1450 }] },
    };
    const first = await busRequest<ApplyResult>(control, 'qnet.agent.lc-1.cmd.linux', desired);
    expect(first).toMatchObject({
      ok: true,
      generation: 5,
      changes: [
        ['ip', 'link', 'add', 'fcbr0', 'address', expect.any(String), 'type', 'bridge'],
        expect.any(Array),
        expect.any(Array),
      ],
    });
    const again = await busRequest<ApplyResult>(control, 'qnet.agent.lc-1.cmd.linux', desired);
    expect(again.changes).toEqual([]);
    const stale = await busRequest<ApplyResult>(control, 'qnet.agent.lc-1.cmd.linux', {
      ...desired,
      generation: 4,
      spec: { bridges: [] },
    });
    expect(stale.error).toMatch(/ignored/);
    await expect(
      busRequest(control, 'qnet.agent.lc-1.cmd.linux', {
        driver: 'linux',
        generation: 6,
        spec: { bridges: [{ name: 'br0; rm -rf /' }] },
      }),
    ).rejects.toMatchObject({ code: 'invalid_argument' });
    // The registry may command only its own drivers' subjects (deploy/nats/nats.conf).
    await expect(busRequest(control, 'qnet.agent.lc-1.cmd.nosuch', desired)).rejects.toMatchObject({
      code: 'permission_denied',
    });
    await waitFor(
      async () => statuses.some((s) => s.generation === 5 && s.host_id === 'lc-1'),
      2_000,
      'status report',
    );
    await waitFor(
      async () =>
        (
          await cluster.db.query<{ g: number }>(
            `SELECT (applied->>'linux')::int AS g FROM network_registry.hosts WHERE id = 'lc-1'`,
          )
        )[0]!.g === 5,
      3_000,
      'applied generation in the registry',
    );
  });

  it('pulls its full desired state from the control plane on start and on every resync', async () => {
    const asked: string[] = [];
    const sub = control.subscribe('qnet.agent.lc-1.desired.linux', {
      callback: (_e, m) => {
        asked.push(m.subject);
        m.respond(
          encodeJson({
            data: { driver: 'linux', generation: 9, spec: { bridges: [{ name: 'fcbr1' }] } },
          }),
        );
      },
    });
    await control.flush();
    await waitFor(async () => asked.length >= 2, 3_000, 'two resync pulls');
    const ping = await busRequest<{ applied: Record<string, number> }>(
      control,
      'qnet.agent.lc-1.cmd.ping',
      {},
    );
    expect(ping.applied.linux).toBe(9);
    sub.unsubscribe();
  });

  it('goes degraded then offline when stopped, with health events', async () => {
    expect(await cluster.stop('node-agent-lc-1')).toBe(0);
    await waitFor(async () => (await health('lc-1')) === 'degraded', 3_000, 'degraded');
    await waitFor(async () => (await health('lc-1')) === 'offline', 3_000, 'offline');
    const res = await busRequest<{ health: string }>(
      await cluster.connectAs('gateway'),
      'qnet.rpc.registry.GetHost',
      { host_id: 'lc-1' },
    );
    expect(res.health).toBe('offline');

    const consumer = await jetstream(control).consumers.get(EVENTS_STREAM.name, {
      filter_subjects: 'qnet.evt.registry.host.health_changed',
    });
    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      const m = await consumer.next({ expires: 3_000 });
      const e = m!.json<EventEnvelope<{ previous: string; health: string }>>();
      seen.push(`${e.data.previous}->${e.data.health}`);
    }
    expect(seen).toEqual(['healthy->degraded', 'degraded->offline']);
  });

  it('comes back healthy when restarted, and re-registers after the registry loses it', async () => {
    cluster.start('node-agent', { hostId: 'lc-1', mode: 'dry-run' });
    await waitFor(async () => (await health('lc-1')) === 'healthy', 5_000, 'healthy again');
    await cluster.db.query(`DELETE FROM network_registry.hosts WHERE id = 'lc-1'`);
    await waitFor(async () => (await health('lc-1')) === 'healthy', 5_000, 're-registration');
    const logs = await cluster.logs('node-agent-lc-1');
    expect(logs.some((l) => String(l.msg).includes('does not know this host'))).toBe(true);
  });
});

describe('node agent after a NATS outage', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    // Resync is slow here, so a pull can only come from the reconnect.
    cluster = await TestCluster.create({
      hostIds: ['rc-1'],
      env: { ...FAST, RESYNC_INTERVAL_MS: '600000' },
    });
    await cluster.startServices(['registry']);
  });
  afterAll(() => cluster.teardown());

  it('pulls its full desired state again when it reconnects', async () => {
    const control = await cluster.connectAs('network-registry');
    const pulls: number[] = [];
    control.subscribe('qnet.agent.rc-1.desired.linux', {
      callback: (_e, m) => {
        pulls.push(Date.now());
        m.respond(
          encodeJson({
            data: { driver: 'linux', generation: pulls.length, spec: { bridges: [] } },
          }),
        );
      },
    });
    await control.flush();
    cluster.start('node-agent', { hostId: 'rc-1', mode: 'dry-run' });
    await waitFor(async () => pulls.length === 1, 10_000, 'the pull on start');
    // From here on this test is the only answer to pulls (the registry answers them too).
    await cluster.stop('network-registry');

    await cluster.nats.restart();
    await waitFor(async () => pulls.length === 2, 15_000, 'the pull after reconnecting');
    // The answer is applied a moment after it is received: ask until the agent has.
    const applied = async () =>
      (
        await busRequest<{ applied: Record<string, number> }>(
          control,
          'qnet.agent.rc-1.cmd.ping',
          {},
        )
      ).applied.linux;
    await waitFor(async () => (await applied()) === 2, 5_000, 'the pulled generation applied');
    expect(await applied()).toBe(2);
    const logs = await cluster.logs('node-agent-rc-1');
    expect(logs.some((l) => String(l.msg).includes('reconnected to NATS'))).toBe(true);
  });
});
