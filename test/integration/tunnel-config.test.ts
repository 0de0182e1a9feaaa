import type { NatsConnection } from '@nats-io/transport-node';
import { execa } from 'execa';
import { busRequest, encodeJson } from '@qnet/bus';
import {
  signRequest,
  Subjects,
  type DecisionPush,
  type DesiredState,
  type DeviceView,
  type RegisteredDeviceView,
  type TunnelSpec,
} from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';

const BOOTSTRAP = 'bootstrap-psk-for-tunnel-config-0123456789';
const wgKey = async () =>
  (await execa('wg', ['pubkey'], { input: (await execa('wg', ['genkey'])).stdout })).stdout.trim();

/**
 * Seed 004's tunnel settings and the state they become, against a real NATS and PostgreSQL:
 * configuration checked per device type (400 naming the field, nothing changed), agents
 * registering their keys (signed; a device acts only on itself), the controller rendering each
 * host's tunnels from the balancer's decisions, and an endpoint's reported tunnel failure
 * moving it to other routers.
 */
describe('tunnel configuration, keys and desired state', () => {
  let cluster: TestCluster;
  let observer: NatsConnection;
  const keys = new Map<string, string>();
  let reporter: NodeJS.Timeout;

  const controller = async (
    method: string,
    path: string,
    body: unknown,
    sign: { psk: string; deviceId?: string },
  ) => {
    const text = JSON.stringify(body);
    const res = await fetch(`${cluster.seedUrl('device')}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...signRequest(sign.psk, { method, path, body: text, deviceId: sign.deviceId }),
      },
      body: text,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const register = async (id: string, type: 'endpoint' | 'routing_server', address: string) => {
    keys.set(id, await wgKey());
    const res = await controller(
      'POST',
      '/register',
      { device_id: id, type, name: id, addresses: [address], public_key: keys.get(id) },
      { psk: BOOTSTRAP },
    );
    expect(res.status).toBe(200);
    return res.body as unknown as RegisteredDeviceView;
  };
  const config = (id: string, cfg: unknown) =>
    cluster.http<{ code: string; details: { field: string }[] }>(
      'POST',
      `/api/v1/devices/${id}/config`,
      { config: cfg },
    );
  /** What the host's agent pulls, as that agent. */
  const pull = async (id: string): Promise<TunnelSpec> => {
    const agent = await cluster.connectAs(`agent-${id}`);
    const state = await busRequest<DesiredState>(agent, Subjects.agentDesired(id, 'tunnel'), {
      host_id: id,
    });
    return state.spec as TunnelSpec;
  };
  const metrics = (id: string, address: string) => ({
    server_id: id,
    server_name: id,
    cpu_percent: 10,
    memory_percent: 10,
    bandwidth_mbps: 0,
    active_tunnels: 0,
    internal_ip: address,
    external_ip: address,
  });

  beforeAll(async () => {
    cluster = await TestCluster.create({
      hostIds: ['gw-ep', 'rt-a', 'rt-b', 'rt-c'],
      env: {
        DEVICE_BOOTSTRAP_PSK: BOOTSTRAP,
        TUNNEL_REPORT_INTERVAL_MS: '200',
        TUNNEL_EVALUATE_INTERVAL_MS: '50',
        TUNNEL_ANTI_FLAP_HOLD_MS: '60000',
      },
    });
    await cluster.startServices(['tunnel', 'device']);
    await cluster.startGateway();
    observer = await cluster.connectAs('observer');
    await register('rt-a', 'routing_server', '192.0.2.11');
    await register('rt-b', 'routing_server', '2001:db8::12');
    await register('rt-c', 'routing_server', '192.0.2.13');
    // rt-a is clearly the best, rt-b second, rt-c last.
    const load = { 'rt-a': 0, 'rt-b': 30, 'rt-c': 60 } as Record<string, number>;
    const addr = { 'rt-a': '192.0.2.11', 'rt-b': '2001:db8::12', 'rt-c': '192.0.2.13' } as Record<
      string,
      string
    >;
    const send = () =>
      Promise.all(
        Object.keys(load).map((id) =>
          fetch(`${cluster.seedUrl('tunnel')}/metrics`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...metrics(id, addr[id]!), cpu_percent: load[id] }),
          }).catch(() => undefined),
        ),
      );
    await send();
    reporter = setInterval(() => void send(), 100);
  });
  afterAll(async () => {
    clearInterval(reporter);
    await cluster?.teardown();
  });

  it('checks a device config by its type and names the field; a refused config changes nothing', async () => {
    await register('gw-ep', 'endpoint', '192.0.2.50');
    const good = { tunnel: { routes: ['203.0.113.0/24', '2001:db8:b::/64'], mtu: 1400 } };
    expect((await config('gw-ep', good)).status).toBe(200);
    const refused: [string, unknown, unknown, string][] = [
      ['endpoint', 'gw-ep', { mtu: 1400 }, 'config.mtu'],
      ['endpoint', 'gw-ep', { tunnel: { port: 51820 } }, 'config.tunnel.port'],
      ['endpoint', 'gw-ep', { tunnel: { mtu: 100 } }, 'config.tunnel.mtu'],
      [
        'endpoint',
        'gw-ep',
        { tunnel: { interface_name: 'tun 0' } },
        'config.tunnel.interface_name',
      ],
      [
        'endpoint',
        'gw-ep',
        { tunnel: { interface_name: 'tunnel' } },
        'config.tunnel.interface_name',
      ],
      ['endpoint', 'gw-ep', { tunnel: { routes: ['0.0.0.0/0'] } }, 'config.tunnel.routes'],
      ['endpoint', 'gw-ep', { tunnel: { routes: ['10.10.100.0/25'] } }, 'config.tunnel.routes'],
      ['endpoint', 'gw-ep', { tunnel: { routes: ['203.0.113.1/24'] } }, 'config.tunnel.routes'],
      ['endpoint', 'gw-ep', { tunnel: { psk: 'x' } }, 'config.tunnel.psk'],
      [
        'endpoint',
        'gw-ep',
        { tunnel: { probe_interval_ms: 1 } },
        'config.tunnel.probe_interval_ms',
      ],
      ['router', 'rt-a', { tunnel: { routes: ['203.0.113.0/24'] } }, 'config.tunnel.routes'],
      ['router', 'rt-a', { tunnel: { probe_misses: 3 } }, 'config.tunnel.probe_misses'],
    ];
    for (const [, id, cfg, field] of refused) {
      const res = await config(id as string, cfg);
      expect({ cfg, status: res.status, field: res.body.details?.[0]?.field }).toEqual({
        cfg,
        status: 400,
        field,
      });
    }
    expect((await cluster.api<DeviceView>('GET', '/api/v1/devices/gw-ep')).config).toEqual(good);
  });

  it('takes agent registrations with their keys; a device registers and configures only itself', async () => {
    const badKey = await controller(
      'POST',
      '/register',
      { device_id: 'rt-x', type: 'routing_server', name: 'x', public_key: 'not-a-key' },
      { psk: BOOTSTRAP },
    );
    expect(badKey).toMatchObject({ status: 400, body: { details: [{ field: 'public_key' }] } });
    const own = await controller(
      'POST',
      '/register',
      { device_id: 'mine', type: 'endpoint', name: 'mine', public_key: await wgKey() },
      { psk: BOOTSTRAP },
    );
    const psk = own.body.psk as string;
    const asMine = { psk, deviceId: 'mine' };
    // Another device's key or config: 403, and nothing changes.
    const before = await cluster.api<DeviceView>('GET', '/api/v1/devices/gw-ep');
    expect(
      (
        await controller(
          'POST',
          '/register',
          { device_id: 'gw-ep', type: 'endpoint', name: 'x', public_key: await wgKey() },
          asMine,
        )
      ).status,
    ).toBe(403);
    expect(
      (await controller('POST', '/config', { device_id: 'gw-ep', config: {} }, asMine)).status,
    ).toBe(403);
    expect(await cluster.api<DeviceView>('GET', '/api/v1/devices/gw-ep')).toEqual({
      ...before,
      last_seen: expect.any(String),
    });
    // Its own: a new key is taken; one left out is kept.
    const next = await wgKey();
    const rekeyed = await controller(
      'POST',
      '/register',
      { device_id: 'mine', type: 'endpoint', name: 'mine', public_key: next },
      asMine,
    );
    expect(rekeyed).toMatchObject({ status: 200, body: { public_key: next, created: false } });
    expect(rekeyed.body).not.toHaveProperty('psk');
    const kept = await controller(
      'POST',
      '/register',
      { device_id: 'mine', type: 'endpoint', name: 'mine' },
      asMine,
    );
    expect(kept.body).toMatchObject({ public_key: next });
    await cluster.api('DELETE', '/api/v1/devices/mine');
  });

  it("renders each host's tunnels from the balancer's decisions: the endpoint's two routers, each router's peers", async () => {
    await waitFor(
      async () => (await pull('gw-ep')).endpoint?.routers.length === 2,
      10_000,
      'gw-ep has its routers',
    );
    const ep = await cluster.api<DeviceView>('GET', '/api/v1/devices/gw-ep');
    const [a, b] = await Promise.all(
      ['rt-a', 'rt-b'].map((id) => cluster.api<DeviceView>('GET', `/api/v1/devices/${id}`)),
    );
    const spec = await pull('gw-ep');
    expect(spec.router).toBeUndefined();
    expect(spec.endpoint).toEqual({
      interface_names: ['tun0', 'tun1'],
      mtu: 1400,
      keepalive_s: 10,
      ipv4: ep.tun_ipv4,
      ipv6: ep.tun_ipv6,
      routes: ['203.0.113.0/24', '2001:db8:b::/64'],
      probe_interval_ms: 10,
      probe_misses: 3,
      preshared_key: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
      routers: [
        {
          router_id: 'rt-a',
          role: 'primary',
          public_key: keys.get('rt-a'),
          endpoint: '192.0.2.11:51820',
          ipv4: a!.tun_ipv4,
          ipv6: a!.tun_ipv6,
        },
        {
          router_id: 'rt-b',
          role: 'backup',
          public_key: keys.get('rt-b'),
          endpoint: '[2001:db8::12]:51820',
          ipv4: b!.tun_ipv4,
          ipv6: b!.tun_ipv6,
        },
      ],
    });
    const psk = spec.endpoint!.preshared_key;
    for (const id of ['rt-a', 'rt-b'])
      expect((await pull(id)).router).toEqual({
        interface_name: 'tun0',
        listen_port: 51820,
        mtu: 1400,
        ipv4: `${(await cluster.api<DeviceView>('GET', `/api/v1/devices/${id}`)).tun_ipv4}/24`,
        ipv6: `${(await cluster.api<DeviceView>('GET', `/api/v1/devices/${id}`)).tun_ipv6}/112`,
        peers: [
          {
            endpoint_id: 'gw-ep',
            public_key: keys.get('gw-ep'),
            preshared_key: psk,
            ipv4: ep.tun_ipv4,
            ipv6: ep.tun_ipv6,
          },
        ],
      });
    expect((await pull('rt-c')).router?.peers).toEqual([]);

    // A router's port follows to its endpoints; its key is never the endpoint's to see but public.
    expect((await config('rt-b', { tunnel: { port: 51999, interface_name: 'wgb0' } })).status).toBe(
      200,
    );
    await waitFor(
      async () => (await pull('gw-ep')).endpoint?.routers[1]?.endpoint === '[2001:db8::12]:51999',
      5_000,
      "gw-ep follows rt-b's port",
    );
    expect((await pull('rt-b')).router).toMatchObject({
      interface_name: 'wgb0',
      listen_port: 51999,
    });
  });

  it('moves an endpoint off a router its own tunnel found dead, at once, and not back within the hold time', async () => {
    const pushes: DecisionPush[] = [];
    const sub = observer.subscribe(Subjects.tunnelDecision('gw-ep'), {
      callback: (_e, m) => {
        pushes.push(m.json<DecisionPush>());
      },
    });
    const agent = await cluster.connectAs('agent-gw-ep');
    // The endpoint's agent reports: its tunnel to rt-a stopped answering, routes now on rt-b.
    agent.publish(
      Subjects.agentStatus('gw-ep', 'tunnel'),
      encodeJson({
        host_id: 'gw-ep',
        driver: 'tunnel',
        generation: 1,
        ok: true,
        changes: [],
        observed_at: new Date().toISOString(),
        observed: {
          endpoint: {
            tunnels: [],
            active_router_id: 'rt-b',
            failed_router_ids: ['rt-a'],
            failovers: 1,
          },
        },
      }),
    );
    await waitFor(async () => pushes.length > 0, 5_000, 'a new decision for gw-ep');
    sub.unsubscribe();
    expect(pushes[0]).toMatchObject({
      endpoint_id: 'gw-ep',
      reason: 'tunnel_failed',
      optimal_router_id: 'rt-b',
      backup_router_id: 'rt-c',
    });
    // rt-a stays the best by its reports, but is not given back within the hold time.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(
      await cluster.api<{ optimal_router_id: string; backup_router_id: string }>(
        'GET',
        '/api/v1/tunnel/decision/gw-ep',
      ),
    ).toMatchObject({
      optimal_router_id: 'rt-b',
      backup_router_id: 'rt-c',
    });
    // The controller renders the endpoint's new routers.
    await waitFor(
      async () =>
        (await pull('gw-ep')).endpoint?.routers.map((r) => r.router_id).join() === 'rt-b,rt-c',
      5_000,
      'gw-ep rendered with rt-b, rt-c',
    );
  });
});
