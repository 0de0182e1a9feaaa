import type { NatsConnection } from '@nats-io/transport-node';
import type {
  EventEnvelope,
  LoadBalancerStatsView,
  LoadBalancerView,
  MemberView,
  NetworkView,
} from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import {
  holdConnections,
  linkNamespaces,
  type NameServer,
  Netns,
  startNameServer,
  tally,
  tcpConnections,
  TestCluster,
  udpRequests,
  Underlay,
} from '@qnet/testing';

const LB = '/limiquantix.network.v1.LoadBalancerService';
const VIP = '10.77.0.100';
const BACKENDS = ['b1', 'b2', 'b3'];

/**
 * Seed 000 part 1 on host nftables: a client and the LB host on one segment (the VIP's network),
 * three backends answering with their names on a segment behind the LB host, whose real agent
 * drives nftables and probes the members.
 */
describe('L4 load balancing with the nftables driver', () => {
  let cluster: TestCluster;
  let front: Underlay;
  let back: Underlay;
  let lbHost: Netns;
  let client: Netns;
  let lb: LoadBalancerView;
  let observer: NatsConnection;
  const events: EventEnvelope[] = [];
  const servers = new Map<string, NameServer>();
  const members = new Map<string, MemberView>();

  const rpc = <T>(method: string, body: object) => cluster.api<T>('POST', `${LB}/${method}`, body);
  const get = () => rpc<LoadBalancerView>('GetLoadBalancer', { id: lb.id });
  const table = async () =>
    (await lbHost.exec(['nft', 'list', 'table', 'inet', 'qnet_lb'], { reject: false })).stdout;
  /** The DNAT rules (the prerouting chain): which backends take new connections. */
  const rotation = async () =>
    (await table()).split('chain prerouting')[1]?.split('chain postrouting')[0] ?? '';
  const connect = (count: number, sources: string[] = []) =>
    tcpConnections(client, VIP, 80, count, sources);
  const applied = () =>
    waitFor(async () => (await get()).provisioning_status === 'ACTIVE', 10_000, 'the LB ACTIVE');
  const backendAddress = (name: string) => `10.78.0.${BACKENDS.indexOf(name) + 1}`;

  /** Probes each second on the backends' port; two results in a row change a member's health. */
  const checkEverySecond = (protocol: 'TCP' | 'UDP') =>
    rpc('SetHealthCheck', {
      load_balancer_id: lb.id,
      health_check: {
        protocol,
        port: 8080,
        interval_sec: 1,
        timeout_sec: 1,
        unhealthy_threshold: 2,
        healthy_threshold: 2,
      },
    });

  async function serve(name: string) {
    const i = BACKENDS.indexOf(name);
    servers.set(name, await startNameServer(back.hosts[i]!, name, 8080));
  }

  async function stop(name: string) {
    await servers.get(name)!.stop();
    servers.delete(name);
  }

  beforeAll(async () => {
    front = await Underlay.create(2, '10.77.0');
    back = await Underlay.create(3, '10.78.0');
    [lbHost, client] = front.hosts as [Netns, Netns];
    await linkNamespaces(back.ns, 'ulb', lbHost, 'eth1');
    await back.ns.exec(['ip', 'link', 'set', 'ulb', 'master', 'ub', 'up']);
    await lbHost.exec(['ip', 'addr', 'add', '10.78.0.254/24', 'dev', 'eth1']);
    await lbHost.exec(['ip', 'link', 'set', 'eth1', 'up']);
    // Source addresses for SOURCE_IP.
    for (let i = 20; i < 30; i++)
      await client.exec(['ip', 'addr', 'add', `10.77.0.${i}/24`, 'dev', 'eth0']);
    for (const b of BACKENDS) await serve(b);
    cluster = await TestCluster.create({
      hostIds: ['lb-host'],
      env: {
        HEARTBEAT_INTERVAL_MS: '500',
        RESYNC_INTERVAL_MS: '2000',
        DRIVER_STATUS_INTERVAL_MS: '500',
      },
    });
    await cluster.startServices(['registry', 'lb']);
    await cluster.startGateway();
    cluster.start(
      'node-agent',
      { hostId: 'lb-host', mode: 'netns', netns: lbHost.name },
      { QNET_UNDERLAY_IP: front.ip(0) },
    );
    await cluster.waitForHosts(['lb-host']);
    observer = await cluster.connectAs('observer');
    observer.subscribe('qnet.evt.lb.>', {
      callback: (_e, m) => {
        events.push(m.json());
      },
    });
  });

  afterAll(async () => {
    for (const s of servers.values()) await s.stop();
    await cluster?.teardown();
    await Promise.all([front, back].map((u) => u?.delete()));
  });

  it("realizes the seed's requests; ROUND_ROBIN spreads 300 connections exactly 100/100/100", async () => {
    const net = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'web',
      bridge_name: 'qbrweb',
      cidr: '10.77.0.0/24',
    });
    lb = await rpc<LoadBalancerView>('CreateLoadBalancer', {
      name: 'web-lb',
      network_id: net.id,
      project_id: 'default',
      vip: VIP,
      algorithm: 'ROUND_ROBIN',
      protocol: 'TCP',
    });
    expect(lb).toMatchObject({ host_id: 'lb-host', provider: 'nftables', vip: VIP });
    await rpc('AddListener', { load_balancer_id: lb.id, port: 80, protocol: 'TCP', name: 'http' });
    for (const b of BACKENDS) {
      const m = await rpc<MemberView>('AddMember', {
        load_balancer_id: lb.id,
        address: backendAddress(b),
        port: 8080,
        weight: 1,
      });
      members.set(b, m);
    }
    await applied();
    expect(await get()).toMatchObject({
      provisioning_status: 'ACTIVE',
      operating_status: 'NO_MONITOR',
    });
    expect(tally(await connect(300))).toEqual({ b1: 100, b2: 100, b3: 100 });
  });

  // 2,000 rather than the 1,000: numgen random strays past 5 points over 1,000 about once
  // in 500 runs (3.2σ for the 50% share) — CI saw it once; over 2,000 it is a 4.5σ event.
  it('WEIGHTED 5:3:2 lands within ±5 percentage points over 2,000 connections', async () => {
    await rpc('UpdateLoadBalancer', { id: lb.id, algorithm: 'WEIGHTED' });
    const weights: Record<string, number> = { b1: 5, b2: 3, b3: 2 };
    for (const b of BACKENDS)
      await rpc('UpdateMember', {
        load_balancer_id: lb.id,
        member_id: members.get(b)!.id,
        weight: weights[b],
      });
    await applied();
    const counts = tally(await connect(2000));
    console.log(`WEIGHTED 5:3:2 over 2,000 connections: ${JSON.stringify(counts)}`);
    for (const b of BACKENDS)
      expect(Math.abs((counts[b] ?? 0) / 2000 - weights[b]! / 10)).toBeLessThanOrEqual(0.05);
  });

  it('SOURCE_IP: each source address always reaches the same backend', async () => {
    await rpc('UpdateLoadBalancer', { id: lb.id, algorithm: 'SOURCE_IP' });
    await applied();
    const sources = Array.from({ length: 10 }, (_, i) => `10.77.0.${20 + i}`);
    const names = await connect(100, sources);
    const bySource = new Map<string, Set<string>>();
    names.forEach((n, i) => {
      const s = sources[i % sources.length]!;
      bySource.set(s, (bySource.get(s) ?? new Set()).add(n));
    });
    for (const [, seen] of bySource) expect(seen.size).toBe(1);
    expect(names.every((n) => BACKENDS.includes(n))).toBe(true);
    expect(new Set(names).size).toBeGreaterThan(1);
  });

  it('LEAST_CONNECTIONS: with connections held open on one backend, new ones go to the others', async () => {
    for (const b of BACKENDS)
      await rpc('UpdateMember', {
        load_balancer_id: lb.id,
        member_id: members.get(b)!.id,
        weight: 1,
      });
    // Only b1 enabled while the long-lived connections are opened, so they all land there.
    for (const b of ['b2', 'b3'])
      await rpc('UpdateMember', {
        load_balancer_id: lb.id,
        member_id: members.get(b)!.id,
        admin_state_up: false,
      });
    await rpc('UpdateLoadBalancer', { id: lb.id, algorithm: 'LEAST_CONNECTIONS' });
    await applied();
    const held = await holdConnections(client, VIP, 80, 5);
    try {
      expect(tally(held.names)).toEqual({ b1: 5 });
      for (const b of ['b2', 'b3'])
        await rpc('UpdateMember', {
          load_balancer_id: lb.id,
          member_id: members.get(b)!.id,
          admin_state_up: true,
        });
      await applied();
      // The agent re-derives the choice from conntrack at least once a second.
      await new Promise((r) => setTimeout(r, 1500));
      const counts = tally(await connect(20));
      expect(counts.b1 ?? 0).toBe(0);
      expect((counts.b2 ?? 0) + (counts.b3 ?? 0)).toBe(20);
      const stats = () => rpc<LoadBalancerStatsView>('GetLoadBalancerStats', { id: lb.id });
      const b1 = members.get('b1')!.id;
      await waitFor(
        async () =>
          (await stats()).members.find((m) => m.member_id === b1)!.active_connections === 5,
        5_000,
        'b1 reporting 5 active connections',
      );
      expect((await stats()).active_connections).toBeGreaterThanOrEqual(5);
    } finally {
      await held.release();
    }
  });

  it('balances UDP listeners too', async () => {
    await rpc('UpdateLoadBalancer', { id: lb.id, algorithm: 'ROUND_ROBIN' });
    await rpc('AddListener', { load_balancer_id: lb.id, port: 53, protocol: 'UDP' });
    await applied();
    expect(tally(await udpRequests(client, VIP, 53, 30))).toEqual({ b1: 10, b2: 10, b3: 10 });
  });

  it('health checks: a killed backend leaves within interval × threshold + 1 s, and returns', async () => {
    await checkEverySecond('TCP');
    await waitFor(async () => (await get()).operating_status === 'ONLINE', 10_000, 'ONLINE');
    await stop('b2');
    const killed = Date.now();
    await waitFor(async () => !(await rotation()).includes('10.78.0.2 . 8080'), 5_000, 'b2 gone');
    const left = Date.now() - killed;
    console.log(`killed backend left the rotation after ${left} ms (bound: 3,000 ms)`);
    expect(left).toBeLessThanOrEqual(1 * 2 * 1000 + 1000);
    const after = await connect(30);
    expect(after.every((n) => n === 'b1' || n === 'b3')).toBe(true);
    await waitFor(async () => (await get()).operating_status === 'DEGRADED', 5_000, 'DEGRADED');
    const b2 = (await get()).members.find((m) => m.address === '10.78.0.2')!;
    expect(b2.operating_status).toBe('OFFLINE');
    expect(
      events.some(
        (e) =>
          e.type === 'lb.member.health_changed' &&
          e.resource_id === b2.id &&
          (e.data as { to: string }).to === 'OFFLINE',
      ),
    ).toBe(true);

    await serve('b2');
    await waitFor(async () => (await rotation()).includes('10.78.0.2 . 8080'), 5_000, 'b2 back');
    await waitFor(async () => (await get()).operating_status === 'ONLINE', 5_000, 'ONLINE again');
    expect(tally(await connect(30))).toEqual({ b1: 10, b2: 10, b3: 10 });
  });

  it('UDP health checks: a backend answering ICMP port unreachable leaves the rotation', async () => {
    await checkEverySecond('UDP');
    await waitFor(async () => (await get()).operating_status === 'ONLINE', 10_000, 'ONLINE');
    await stop('b3');
    await waitFor(async () => !(await rotation()).includes('10.78.0.3 . 8080'), 5_000, 'b3 gone');
    expect(tally(await udpRequests(client, VIP, 53, 20))).toEqual({ b1: 10, b2: 10 });
    await serve('b3');
    await waitFor(async () => (await get()).operating_status === 'ONLINE', 8_000, 'ONLINE again');
  });

  it('with every member down new connections are refused at once and the LB is OFFLINE', async () => {
    for (const b of BACKENDS) await stop(b);
    await waitFor(async () => (await get()).operating_status === 'OFFLINE', 8_000, 'OFFLINE');
    const started = Date.now();
    expect(await connect(3)).toEqual(['ERR:ECONNREFUSED', 'ERR:ECONNREFUSED', 'ERR:ECONNREFUSED']);
    expect(Date.now() - started).toBeLessThan(1000);
    for (const b of BACKENDS) await serve(b);
    await waitFor(async () => (await get()).operating_status === 'ONLINE', 8_000, 'ONLINE');
  });

  it('a member removed through the API gets no new connections', async () => {
    await rpc('RemoveMember', { load_balancer_id: lb.id, member_id: members.get('b3')!.id });
    await applied();
    expect(tally(await connect(30))).toEqual({ b1: 15, b2: 15 });
    const stats = await rpc<LoadBalancerStatsView>('GetLoadBalancerStats', { id: lb.id });
    expect(stats.total_connections).toBeGreaterThan(0);
    expect(stats.bytes_in).toBeGreaterThan(0);
    expect(stats.bytes_out).toBeGreaterThan(0);
  });

  it('deleting the load balancer removes its table and its VIP from the host', async () => {
    await cluster.api('DELETE', `/api/v1/load-balancers/${lb.id}`);
    await waitFor(async () => (await table()) === '', 5_000, 'the table gone');
    const vips = await lbHost.exec(['ip', 'addr', 'show'], { reject: false });
    expect(vips.stdout).not.toContain(VIP);
    expect(await connect(1)).not.toEqual(['b1']);
  });
});
