import { execa } from 'execa';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type {
  BalancerStatusView,
  DecisionView,
  DeviceView,
  TopologyEdgeView,
  TopologyView,
} from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { TestCluster, TunnelLab, type EchoServer, type Netns } from '@qnet/testing';

const BOOTSTRAP = 'bootstrap-psk-for-tunnel-tests-0123456789';
const ECHO_PORT = 7000;
const HOLD_MS = 2_000;

/**
 * Seed 004's data plane for real: three routing servers and two endpoints in namespaces, each run
 * by a real node agent. Endpoints keep two WireGuard tunnels (wireguard-go) to their primary and
 * backup router, route the business network through the one that answers, fail over locally in
 * well under 100 ms and move make-before-break when the balancer decides; routers forward and NAT.
 */
describe('seed 004 tunnels: endpoints, routing servers, failover', () => {
  let cluster: TestCluster;
  let lab: TunnelLab;
  let echo: EchoServer;
  const ep = () => lab.endpoints[0]!;

  const device = (id: string) => cluster.api<DeviceView>('GET', `/api/v1/devices/${id}`);
  const decision = (id: string) =>
    cluster.api<DecisionView>('GET', `/api/v1/tunnel/decision/${id}`);
  const edges = async (id: string): Promise<TopologyEdgeView[]> =>
    (await cluster.api<TopologyView>('GET', '/api/v1/devices/topology')).edges.filter(
      (e) => e.from_device_id === id,
    );
  const routerIndex = (id: string) => Number(id.split('-')[1]) - 1;
  /** The device that carries ep-1's route to the business network now, from the kernel. */
  const carrying = async (ns: Netns = ep()) =>
    /dev (\S+)/.exec((await ns.exec(['ip', 'route', 'get', TunnelLab.BUSINESS_V4])).stdout)?.[1];
  /** Both tunnels answer and the routes are on the primary's, as the endpoint reports it. */
  const settled = async (id = 'ep-1') => {
    const d = await decision(id);
    const e = await edges(id);
    const primary = e.find((x) => x.to_device_id === d.optimal_router_id);
    return (
      e.length === 2 &&
      e.every((x) => x.up === true) &&
      primary?.role === 'primary' &&
      primary.carries_routes === true
    );
  };
  const startAgent = (host: Netns, id: string, env: Record<string, string>) =>
    cluster.start(
      'node-agent',
      { hostId: id, mode: 'netns', netns: host.name },
      { ...env, DEVICE_CONTROLLER_URL: cluster.seedUrl('device') },
    );

  beforeAll(async () => {
    lab = await TunnelLab.create({ endpoints: 2, routers: 3 });
    cluster = await TestCluster.create({
      hostIds: ['ep-1', 'ep-2', 'rs-1', 'rs-2', 'rs-3'],
      env: {
        DEVICE_BOOTSTRAP_PSK: BOOTSTRAP,
        TUNNEL_REPORT_INTERVAL_MS: '500',
        TUNNEL_EVALUATE_INTERVAL_MS: '200',
        TUNNEL_ANTI_FLAP_HOLD_MS: String(HOLD_MS),
        // Every router here shares one machine's CPU and memory, whose readings at different
        // moments differ by more than the anti-flap threshold: scores count egress and tunnels
        // only. A few Mbit/s on a router's egress make it clearly worse (the planned move).
        TUNNEL_WEIGHT_CPU: '0',
        TUNNEL_WEIGHT_MEMORY: '0',
        TUNNEL_MAX_BANDWIDTH_MBPS: '20',
        ROUTING_METRICS_INTERVAL_MS: '500',
        DRIVER_STATUS_INTERVAL_MS: '500',
        RESYNC_INTERVAL_MS: '5000',
      },
    });
    await cluster.startServices(['registry', 'tunnel', 'device']);
    await cluster.startGateway();
    // Operators provision the routers and ep-2 with their device names (wireguard-go keeps its
    // control sockets in one directory for every namespace: names are unique on this machine).
    for (const i of [0, 1, 2])
      await cluster.api('POST', '/api/v1/devices', {
        device_id: lab.routerId(i),
        type: 'routing_server',
        name: `Routing Server ${i + 1}`,
      });
    for (const i of [0, 1, 2])
      await cluster.api('POST', `/api/v1/devices/${lab.routerId(i)}/config`, {
        config: { tunnel: { interface_name: `rt${i + 1}`, port: 51820 } },
      });
    await cluster.api('POST', '/api/v1/devices', {
      device_id: 'ep-2',
      type: 'endpoint',
      name: 'Endpoint 2',
    });
    await cluster.api('POST', '/api/v1/devices/ep-2/config', {
      config: { tunnel: { interface_name: 'ept0', routes: TunnelLab.ROUTES } },
    });
    for (const [i, r] of lab.routers.entries()) startAgent(r, lab.routerId(i), lab.routerEnv(i));
    // ep-1 registers itself (bootstrap PSK, then its own); the operator then gives it its routes.
    for (const [i, e] of lab.endpoints.entries())
      startAgent(e, lab.endpointId(i), lab.endpointEnv(i));
    await waitFor(
      async () => Boolean((await device('ep-1').catch(() => undefined))?.public_key),
      20_000,
      'ep-1 registered its key',
    );
    await cluster.api('POST', '/api/v1/devices/ep-1/config', {
      config: { tunnel: { routes: TunnelLab.ROUTES } },
    });
    echo = await lab.startEcho(ECHO_PORT);
    await waitFor(() => settled('ep-1'), 30_000, 'ep-1: both tunnels up, routes on the primary');
    await waitFor(() => settled('ep-2'), 30_000, 'ep-2: both tunnels up, routes on the primary');
  }, 120_000);

  afterAll(async () => {
    await echo?.stop();
    await cluster?.teardown();
    await lab?.delete();
  });

  it('reaches the business server over IPv4 and IPv6 through its primary tunnel, NATed by the router', async () => {
    const d = await decision('ep-1');
    const primary = routerIndex(d.optimal_router_id);
    const dev = await carrying();
    expect(['tun0', 'tun1']).toContain(dev);
    for (const dest of [TunnelLab.BUSINESS_V4, TunnelLab.BUSINESS_V6]) {
      const r = await lab.stream(ep(), dest, ECHO_PORT, 200, 500);
      expect(r).toMatchObject({ sent: 100, lost: 0 });
    }
    // The business server sees the primary router's addresses, never a tunnel address.
    expect(echo.sources).toContain(lab.routerBusinessIp(primary, 4));
    expect(echo.sources).toContain(lab.routerBusinessIp(primary, 6));
    expect(
      [...echo.sources].filter((a) => a.startsWith('10.10.') || a.startsWith('fd00:')),
    ).toEqual([]);

    // The seed's troubleshooting commands mean what it says.
    const link = await ep().exec(['ip', 'link', 'show', dev!]);
    expect(link.stdout).toMatch(/mtu 1400/);
    const router = await device(d.optimal_router_id);
    expect(
      await ep().exec(['ping', '-c', '2', '-i', '0.2', '-I', dev!, router.tun_ipv4]),
    ).toMatchObject({ exitCode: 0 });
    expect(
      await ep().exec(['ping', '-6', '-c', '2', '-i', '0.2', '-I', dev!, router.tun_ipv6]),
    ).toMatchObject({ exitCode: 0 });
    const rtLink = await lab.routers[primary]!.exec(['ip', 'link', 'show', `rt${primary + 1}`]);
    expect(rtLink.stdout).toMatch(/mtu 1400/);
  });

  it('reports real tunnels: active tunnels are peers with a recent handshake; the topology shows them live', async () => {
    const d = await decision('ep-1');
    const e = await edges('ep-1');
    expect(e).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          to_device_id: d.optimal_router_id,
          role: 'primary',
          up: true,
          carries_routes: true,
        }),
        expect.objectContaining({
          to_device_id: d.backup_router_id,
          role: 'backup',
          up: true,
          carries_routes: false,
        }),
      ]),
    );
    for (const x of e) expect(x.handshake_age_s).toBeLessThan(180);
    // Each endpoint holds two tunnels: 4 between 3 routers.
    await waitFor(
      async () =>
        (await cluster.api<BalancerStatusView>('GET', '/api/v1/tunnel/status')).servers.reduce(
          (n, s) => n + s.active_tunnels,
          0,
        ) === 4,
      10_000,
      'routers report 4 active tunnels in all',
    );
  });

  it('lets no foreign or tampered packet through: unknown key, stolen key without the PSK, garbage', async () => {
    const d = await decision('ep-1');
    const target = d.backup_router_id;
    const router = await device(target);
    const routerKey = router.public_key;
    const attacker = lab.endpoints[1]!; // on the underlay, like any host
    const stolen = JSON.parse(
      readFileSync(
        path.join(path.dirname(cluster.deployment.logDir), 'agent-ep-1', 'tunnel.json'),
        'utf8',
      ),
    ) as { private_key: string; psk: string };
    const before = new Set(echo.sources);
    const attempts: { name: string; key: string; psk?: string }[] = [
      { name: 'unknown key', key: (await execa('wg', ['genkey'])).stdout.trim() },
      {
        name: 'unknown key with the PSK',
        key: (await execa('wg', ['genkey'])).stdout.trim(),
        psk: stolen.psk,
      },
      { name: "ep-1's key without its PSK", key: stolen.private_key },
      {
        name: "ep-1's key with a wrong PSK",
        key: stolen.private_key,
        psk: (await execa('wg', ['genpsk'])).stdout.trim(),
      },
    ];
    for (const a of attempts) {
      const dir = path.join(cluster.dir, 'attack');
      await execa('mkdir', ['-p', dir]);
      const keyFile = path.join(dir, 'key');
      const pskFile = path.join(dir, 'psk');
      await execa('install', ['-m', '600', '/dev/null', keyFile]);
      await execa('install', ['-m', '600', '/dev/null', pskFile]);
      await attacker.exec(['tee', keyFile], { input: a.key });
      await attacker.exec(['tee', pskFile], { input: a.psk ?? '' });
      await attacker.exec(['wireguard-go', 'atk0']);
      await attacker.exec([
        'wg',
        'set',
        'atk0',
        'private-key',
        keyFile,
        'peer',
        routerKey,
        ...(a.psk ? ['preshared-key', pskFile] : []),
        'endpoint',
        `${lab.routerUnderlayIp(routerIndex(target))}:51820`,
        'allowed-ips',
        '0.0.0.0/0',
      ]);
      await attacker.exec([
        'ip',
        'addr',
        'add',
        `${(await device('ep-1')).tun_ipv4}/32`,
        'dev',
        'atk0',
      ]);
      await attacker.exec(['ip', 'link', 'set', 'atk0', 'up']);
      // Through the tunnel to the router, and to the business server behind it.
      const toRouter = await attacker.exec(
        ['ping', '-c', '3', '-i', '0.3', '-W', '1', '-I', 'atk0', router.tun_ipv4],
        { reject: false },
      );
      const handshake = (await attacker.exec(['wg', 'show', 'atk0', 'latest-handshakes'])).stdout;
      await attacker.exec(['ip', 'link', 'del', 'atk0']);
      expect({
        attempt: a.name,
        answered: toRouter.exitCode === 0,
        handshake: handshake.trim().split(/\s+/)[1],
      }).toEqual({
        attempt: a.name,
        answered: false,
        handshake: '0',
      });
    }
    // Garbage at the listener changes nothing either.
    await lab.stream(attacker, lab.routerUnderlayIp(routerIndex(target)), 51820, 1000, 300, 148);
    expect(echo.sources).toEqual(before);
  });

  it('fails over locally when the link of the router carrying the routes dies: the loss window stays well under 100 ms', async () => {
    const windows: number[] = [];
    for (let trial = 0; trial < 3; trial++) {
      await waitFor(() => settled('ep-1'), 40_000, `ep-1 settled before trial ${trial}`);
      const d = await decision('ep-1');
      const dead = lab.routers[routerIndex(d.optimal_router_id)]!;
      const stream = lab.stream(ep(), TunnelLab.BUSINESS_V4, ECHO_PORT, 1000, 2000);
      await new Promise((r) => setTimeout(r, 700));
      await dead.exec(['ip', 'link', 'set', 'eth0', 'down']);
      const result = await stream;
      await dead.exec(['ip', 'link', 'set', 'eth0', 'up']);
      windows.push(result.longest);
      // The endpoint told the control plane: the balancer moved it to the router it now uses.
      await waitFor(
        async () => (await decision('ep-1')).optimal_router_id === d.backup_router_id,
        10_000,
        `balancer follows ep-1 to ${d.backup_router_id}`,
      );
    }
    windows.sort((a, b) => a - b);
    expect(windows[1]).toBeLessThan(100);
    expect(windows[2]).toBeLessThan(250);
  });

  it('moves make-before-break when the balancer finds a better router: not one probe lost', async () => {
    await waitFor(() => settled('ep-1'), 40_000, 'ep-1 settled');
    await new Promise((r) => setTimeout(r, HOLD_MS)); // past the hold time of the last move
    const d = await decision('ep-1');
    const busy = lab.routers[routerIndex(d.optimal_router_id)]!;
    const stream = lab.stream(ep(), TunnelLab.BUSINESS_V4, ECHO_PORT, 1000, 6000);
    // ~10 Mbit/s out of the primary's egress (not through a tunnel, to a port nobody answers):
    // half its 20 Mbit/s capacity.
    const load = lab.stream(busy, TunnelLab.BUSINESS_V4, 9, 1000, 4000, 1200);
    const [result] = await Promise.all([stream, load]);
    const after = await decision('ep-1');
    expect(after.optimal_router_id).not.toBe(d.optimal_router_id);
    expect(result).toMatchObject({ sent: 6000, lost: 0 });
    await waitFor(() => settled('ep-1'), 20_000, 'ep-1 settled on its new primary');
  });

  it('converges by itself after a routing server restarts with its tunnel device gone', async () => {
    await waitFor(() => settled('ep-1'), 40_000, 'ep-1 settled');
    const d = await decision('ep-1');
    const i = routerIndex(d.optimal_router_id);
    await cluster.stop(`node-agent-${lab.routerId(i)}`);
    await lab.routers[i]!.exec(['ip', 'link', 'del', `rt${i + 1}`]);
    startAgent(lab.routers[i]!, lab.routerId(i), lab.routerEnv(i));
    await waitFor(() => settled('ep-1'), 40_000, 'ep-1 settled again');
    expect((await lab.stream(ep(), TunnelLab.BUSINESS_V4, ECHO_PORT, 200, 500)).lost).toBe(0);
  });

  it('converges by itself after an endpoint restarts with its tunnels gone, keeping its addresses', async () => {
    const before = await device('ep-1');
    await cluster.stop('node-agent-ep-1');
    for (const dev of ['tun0', 'tun1'])
      await ep().exec(['ip', 'link', 'del', dev], { reject: false });
    startAgent(ep(), 'ep-1', lab.endpointEnv(0));
    await waitFor(() => settled('ep-1'), 40_000, 'ep-1 settled again');
    expect(await device('ep-1')).toMatchObject({
      tun_ipv4: before.tun_ipv4,
      public_key: before.public_key,
    });
    expect((await lab.stream(ep(), TunnelLab.BUSINESS_V6, ECHO_PORT, 200, 500)).lost).toBe(0);
  });

  it('keeps the keys to itself: private key and PSK in files 0600, never in a log', async () => {
    const state = path.join(path.dirname(cluster.deployment.logDir), 'agent-ep-1', 'tunnel.json');
    expect(statSync(state).mode & 0o777).toBe(0o600);
    const kept = JSON.parse(readFileSync(state, 'utf8')) as { private_key: string; psk: string };
    expect(kept.psk).toMatch(/=$/); // ep-1 registered itself: its PSK was kept to sign with
    const logs = [
      'node-agent-ep-1',
      'node-agent-rs-1',
      'device-controller',
      'tunnel-balancer',
      'gateway',
    ]
      .map((n) => readFileSync(path.join(cluster.deployment.logDir, `${n}.log`), 'utf8'))
      .join('\n');
    expect(logs).not.toContain(kept.private_key);
    expect(logs).not.toContain(kept.psk);
    expect(logs).not.toContain(BOOTSTRAP);
  });
});
