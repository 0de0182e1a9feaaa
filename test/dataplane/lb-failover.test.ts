import type { LoadBalancerView, NetworkView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import {
  connectionLoop,
  linkNamespaces,
  Netns,
  startNameServer,
  TestCluster,
  Underlay,
  type NameServer,
} from '@qnet/testing';

const LB = '/limiquantix.network.v1.LoadBalancerService';
const VIP = '10.79.0.100';

/**
 * The VIP follows its load balancer: two LB-capable hosts and a client on the VIP's segment, a
 * backend behind both. The LB's host dies (agent stopped, link down); the lb service re-places it,
 * the other host takes the VIP and announces it with a gratuitous ARP. The client keeps connecting
 * throughout, and the time the VIP was unreachable is measured.
 */
describe('load balancer failover', () => {
  let cluster: TestCluster;
  let front: Underlay;
  let back: Underlay;
  let lbA: Netns;
  let lbB: Netns;
  let client: Netns;
  let server: NameServer;
  let lb: LoadBalancerView;
  const rpc = <T>(method: string, body: object) => cluster.api<T>('POST', `${LB}/${method}`, body);
  const agentEnv = (i: number) => ({ QNET_UNDERLAY_IP: front.ip(i) });

  beforeAll(async () => {
    front = await Underlay.create(3, '10.79.0');
    back = await Underlay.create(1, '10.80.0');
    [lbA, lbB, client] = front.hosts as [Netns, Netns, Netns];
    for (const [host, dev, address] of [
      [lbA, 'ula', '10.80.0.253'],
      [lbB, 'ulb', '10.80.0.254'],
    ] as const) {
      await linkNamespaces(back.ns, dev, host, 'eth1');
      await back.ns.exec(['ip', 'link', 'set', dev, 'master', 'ub', 'up']);
      await host.exec(['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth1']);
      await host.exec(['ip', 'link', 'set', 'eth1', 'up']);
    }
    server = await startNameServer(back.hosts[0]!, 'b1', 8080);
    cluster = await TestCluster.create({
      hostIds: ['lb-a', 'lb-b'],
      env: {
        HEARTBEAT_INTERVAL_MS: '250',
        RESYNC_INTERVAL_MS: '2000',
        HOST_HEALTHY_WINDOW_MS: '1000',
        HOST_SWEEP_INTERVAL_MS: '100',
        LB_FAILOVER_SWEEP_MS: '200',
      },
    });
    await cluster.startServices(['registry', 'lb']);
    await cluster.startGateway();
    cluster.start('node-agent', { hostId: 'lb-a', mode: 'netns', netns: lbA.name }, agentEnv(0));
    cluster.start('node-agent', { hostId: 'lb-b', mode: 'netns', netns: lbB.name }, agentEnv(1));
    await cluster.waitForHosts(['lb-a', 'lb-b']);
  });

  afterAll(async () => {
    await server?.stop();
    await cluster?.teardown();
    await Promise.all([front, back].map((u) => u?.delete()));
  });

  it('moves the VIP to the other host when the LB host dies, and measures the outage', async () => {
    const net = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'front',
      bridge_name: 'qbrfront',
      cidr: '10.79.0.0/24',
    });
    lb = await rpc<LoadBalancerView>('CreateLoadBalancer', {
      name: 'ha-lb',
      network_id: net.id,
      vip: VIP,
      algorithm: 'ROUND_ROBIN',
      protocol: 'TCP',
    });
    expect(lb.host_id).toBe('lb-a');
    await rpc('AddListener', { load_balancer_id: lb.id, port: 80 });
    await rpc('AddMember', { load_balancer_id: lb.id, address: '10.80.0.1', port: 8080 });
    await waitFor(
      async () =>
        (await rpc<LoadBalancerView>('GetLoadBalancer', { id: lb.id })).provisioning_status ===
        'ACTIVE',
      10_000,
      'ACTIVE on lb-a',
    );

    const traffic = connectionLoop(client, VIP, 80, 12_000, 100);
    await new Promise((r) => setTimeout(r, 2000));
    // The host dies: its link first (the VIP is unreachable from here on), then its agent — the
    // agent's graceful stop takes long enough that the other way round the LB could move first.
    await lbA.exec(['ip', 'link', 'set', 'eth0', 'down']);
    const failedAt = Date.now();
    await cluster.stop('node-agent-lb-a');
    const attempts = await traffic;
    const summary = attempts.map(([t, e, n]) => `${t - failedAt}+${e - t}:${n}`).join(' ');

    type Attempt = [start: number, end: number, name: string];
    const ok = (a: Attempt) => a[2] === 'b1';
    const before = attempts.filter((a) => a[1] < failedAt);
    // The VIP is back when a connection through lb-b first completes.
    const backAt = Math.min(...attempts.filter((a) => a[1] >= failedAt && ok(a)).map((a) => a[1]));
    const outageMs = backAt - failedAt;
    console.log(
      `VIP unreachable for ${outageMs} ms (host failure to first connection through lb-b)`,
    );
    expect(before.every(ok)).toBe(true);
    expect(Number.isFinite(backAt)).toBe(true);
    expect(outageMs).toBeLessThan(8_000);
    // Once moved, every connection succeeds.
    expect({ after: attempts.filter((a) => a[0] > backAt).every(ok), summary }).toEqual({
      after: true,
      summary,
    });
    expect((await rpc<LoadBalancerView>('GetLoadBalancer', { id: lb.id })).host_id).toBe('lb-b');
    expect((await lbB.exec(['ip', 'addr', 'show', 'dev', 'qnlb0'])).stdout).toContain(VIP);
  });

  it('the old host drops the VIP and its table when it comes back', async () => {
    await lbA.exec(['ip', 'link', 'set', 'eth0', 'up']);
    cluster.start('node-agent', { hostId: 'lb-a', mode: 'netns', netns: lbA.name }, agentEnv(0));
    await waitFor(
      async () =>
        !(await lbA.exec(['ip', 'addr', 'show'])).stdout.includes(VIP) &&
        (await lbA.exec(['nft', 'list', 'tables'])).stdout.trim() === '',
      15_000,
      'lb-a clean',
    );
  });
});
