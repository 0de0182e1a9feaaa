import { execa } from 'execa';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BalancerStatusView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { TestCluster, TunnelLab, TunnelNetwork, type EchoServer } from '@qnet/testing';

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
  let net: TunnelNetwork;
  let cluster: TestCluster;
  let lab: TunnelLab;
  let echo: EchoServer;
  const ep = () => lab.endpoints[0]!;
  const device = (id: string) => net.device(id);
  const decision = (id: string) => net.decision(id);
  const routerIndex = (id: string) => Number(id.split('-')[1]) - 1;
  /** The device that carries ep-1's route to the business network now, from the kernel. */
  const carrying = async () =>
    /dev (\S+)/.exec((await ep().exec(['ip', 'route', 'get', TunnelLab.BUSINESS_V4])).stdout)?.[1];
  const stateFile = () =>
    path.join(path.dirname(cluster.deployment.logDir), 'agent-ep-1', 'tunnel.json');

  beforeAll(async () => {
    lab = await TunnelLab.create({ endpoints: 2, routers: 3 });
    cluster = await TestCluster.create({
      hostIds: ['ep-1', 'ep-2', 'rs-1', 'rs-2', 'rs-3'],
      env: {
        ...TunnelNetwork.ENV,
        DEVICE_BOOTSTRAP_PSK: BOOTSTRAP,
        TUNNEL_ANTI_FLAP_HOLD_MS: String(HOLD_MS),
        // Every router here shares one machine's CPU and memory, whose readings at different
        // moments differ by more than the anti-flap threshold: scores count egress and tunnels
        // only. A few Mbit/s on a router's egress make it clearly worse (the planned move).
        TUNNEL_WEIGHT_CPU: '0',
        TUNNEL_WEIGHT_MEMORY: '0',
        TUNNEL_MAX_BANDWIDTH_MBPS: '20',
        RESYNC_INTERVAL_MS: '5000',
      },
    });
    net = await TunnelNetwork.deploy(cluster, lab);
    echo = await lab.startEcho(ECHO_PORT);
  }, 120_000);

  afterAll(async () => {
    await echo?.stop();
    await cluster?.teardown();
    await lab?.delete();
  });

  it('reaches the business server over IPv4 and IPv6 through its primary tunnel, NATed by the router', async () => {
    // Both families under one decision: the balancer may move ep-1 between the two streams
    // (they change its routers' egress; seen once on a busy machine), and then both go again.
    let d = await decision('ep-1');
    for (let attempt = 0; attempt < 3; attempt++) {
      await waitFor(() => net.settled('ep-1'), 40_000, 'ep-1 settled');
      d = await decision('ep-1');
      echo.sources.clear();
      for (const dest of [TunnelLab.BUSINESS_V4, TunnelLab.BUSINESS_V6]) {
        const r = await lab.stream(ep(), dest, ECHO_PORT, 200, 500);
        expect(r).toMatchObject({ sent: 100, lost: 0 });
      }
      if ((await decision('ep-1')).optimal_router_id === d.optimal_router_id) break;
    }
    const primary = routerIndex(d.optimal_router_id);
    const dev = await carrying();
    expect(['tun0', 'tun1']).toContain(dev);
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
    // Not in the middle of a move: the last test's streams changed its routers' egress.
    await waitFor(() => net.settled('ep-1'), 40_000, 'ep-1 settled');
    const d = await decision('ep-1');
    const e = await net.edges('ep-1');
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
    for (let trial = 0; trial < 3; trial++) windows.push((await net.failover(ECHO_PORT)).longest);
    windows.sort((a, b) => a - b);
    expect(windows[1]).toBeLessThan(100);
    expect(windows[2]).toBeLessThan(250);
  });

  it('moves make-before-break when the balancer finds a better router: not one probe lost', async () => {
    const move = await net.plannedMove(ECHO_PORT, HOLD_MS);
    expect(move).toMatchObject({ moved: true, sent: 6000, lost: 0 });
  });

  /** Traffic through the tunnels, both families, without a loss: the tunnels work again. */
  const flows = async () => {
    for (const dest of [TunnelLab.BUSINESS_V4, TunnelLab.BUSINESS_V6])
      if ((await lab.stream(ep(), dest, ECHO_PORT, 200, 300)).lost) return false;
    return true;
  };

  it('converges by itself after a routing server restarts with its tunnel device gone', async () => {
    await waitFor(() => net.settled('ep-1'), 40_000, 'ep-1 settled');
    const d = await decision('ep-1');
    const i = routerIndex(d.optimal_router_id);
    await cluster.stop(`node-agent-${lab.routerId(i)}`);
    await lab.routers[i]!.exec(['ip', 'link', 'del', `rt${i + 1}`]);
    net.startRouter(i);
    await waitFor(
      async () =>
        (await lab.routers[i]!.exec(['ip', 'link', 'show', `rt${i + 1}`], { reject: false }))
          .exitCode === 0,
      20_000,
      `rt${i + 1} made again`,
    );
    await waitFor(flows, 40_000, 'traffic through the tunnels again');
    await waitFor(() => net.settled('ep-1'), 40_000, 'ep-1 settled again');
  });

  it('converges by itself after an endpoint restarts with its tunnels gone, keeping its addresses', async () => {
    const before = await device('ep-1');
    await cluster.stop('node-agent-ep-1');
    for (const dev of ['tun0', 'tun1'])
      await ep().exec(['ip', 'link', 'del', dev], { reject: false });
    expect(await flows()).toBe(false);
    net.startEndpoint(0);
    await waitFor(flows, 40_000, 'traffic through the tunnels again');
    await waitFor(() => net.settled('ep-1'), 40_000, 'ep-1 settled again');
    expect(await device('ep-1')).toMatchObject({
      tun_ipv4: before.tun_ipv4,
      public_key: before.public_key,
    });
  });

  it('keeps the keys to itself: private key and PSK in files 0600, never in a log', async () => {
    expect(statSync(stateFile()).mode & 0o777).toBe(0o600);
    const kept = JSON.parse(readFileSync(stateFile(), 'utf8')) as {
      private_key: string;
      psk: string;
    };
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
