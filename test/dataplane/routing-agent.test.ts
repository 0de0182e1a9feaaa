import { execa } from 'execa';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type {
  BalancerStatusView,
  DeviceView,
  PushConfigResponse,
  ServerStatusView,
} from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { Netns, TestCluster } from '@qnet/testing';

/**
 * A routing server is a namespace run by a real node-agent in the routing-server role: its metrics
 * come from the kernel (egress counters, /proc, its WireGuard peers) and reach the balancer over
 * NATS; it registers itself with the device controller, which pushes its config to that agent.
 */
describe('node agent as a routing server', () => {
  let cluster: TestCluster;
  let host: Netns;
  let peer: Netns;

  const server = async (): Promise<ServerStatusView | undefined> =>
    (await cluster.api<BalancerStatusView>('GET', '/api/v1/tunnel/status')).servers.find(
      (s) => s.server_id === 'rs-1',
    );

  beforeAll(async () => {
    host = await Netns.create('qrs');
    peer = await Netns.create('qrp');
    await execa('ip', [
      'link',
      'add',
      'eth0',
      'netns',
      host.name,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      peer.name,
    ]);
    await host.exec(['ip', 'addr', 'add', '10.88.0.1/24', 'dev', 'eth0']);
    await peer.exec(['ip', 'addr', 'add', '10.88.0.2/24', 'dev', 'eth0']);
    await host.exec(['ip', 'link', 'set', 'eth0', 'up']);
    await peer.exec(['ip', 'link', 'set', 'eth0', 'up']);
    cluster = await TestCluster.create({
      hostIds: ['rs-1'],
      env: {
        DEVICE_BOOTSTRAP_PSK: 'bootstrap-psk-for-routing-agent-0123456789',
        TUNNEL_REPORT_INTERVAL_MS: '300',
        TUNNEL_EVALUATE_INTERVAL_MS: '100',
        DEVICE_PUSH_TIMEOUT_MS: '2000',
      },
    });
    await cluster.startServices(['registry', 'tunnel', 'device']);
    await cluster.startGateway();
    cluster.start(
      'node-agent',
      { hostId: 'rs-1', mode: 'netns', netns: host.name },
      {
        ROUTING_SERVER: 'true',
        ROUTING_METRICS_INTERVAL_MS: '300',
        ROUTING_EGRESS_INTERFACE: 'eth0',
        ROUTING_INTERNAL_IP: '10.88.0.1',
        ROUTING_EXTERNAL_IP: '198.51.100.7',
        QNET_UNDERLAY_IP: '10.88.0.1',
        DEVICE_CONTROLLER_URL: cluster.seedUrl('device'),
      },
    );
  });
  afterAll(async () => {
    await cluster?.teardown();
    await Promise.all([host, peer].map((n) => n?.delete()));
  });

  it('publishes real metrics: egress rate on the interface, CPU and memory, tunnels with a live session', async () => {
    await waitFor(async () => (await server()) !== undefined, 10_000, 'rs-1 in the balancer');
    // No endpoint has a tunnel to it yet (test/dataplane/tunnels.test.ts counts real ones).
    expect(await server()).toMatchObject({ status: 'active', active_tunnels: 0 });
    const s = (await server())!;
    expect(s.memory_percent).toBeGreaterThan(0);
    expect(s.memory_percent).toBeLessThan(100);
    expect(s.cpu_percent).toBeGreaterThanOrEqual(0);
    expect(s.cpu_percent).toBeLessThanOrEqual(100);

    // ~1,000 packets of 1,400 bytes in about a second out of eth0: on the order of 10 Mbit/s.
    const traffic = host.exec(
      ['ping', '-q', '-i', '0.002', '-s', '1400', '-c', '1000', '10.88.0.2'],
      { reject: false },
    );
    await waitFor(
      async () => ((await server())?.bandwidth_mbps ?? 0) > 1,
      10_000,
      'egress bandwidth',
    );
    await traffic;
  });

  it('registers itself with the device controller and runs its tunnel listener', async () => {
    await waitFor(
      async () =>
        Boolean((await cluster.http<DeviceView>('GET', '/api/v1/devices/rs-1')).body.public_key),
      10_000,
      'rs-1 registered with its key',
    );
    const device = await cluster.api<DeviceView>('GET', '/api/v1/devices/rs-1');
    expect(device).toMatchObject({ type: 'routing_server', addresses: ['198.51.100.7'] });
    await waitFor(
      async () =>
        (
          await host.exec(['wg', 'show', 'tun0', 'listen-port'], { reject: false })
        ).stdout.trim() === '51820',
      10_000,
      'tun0 listening on 51820',
    );
    expect((await host.exec(['wg', 'show', 'tun0', 'public-key'])).stdout.trim()).toBe(
      device.public_key,
    );
    expect((await host.exec(['ip', 'addr', 'show', 'tun0'])).stdout).toContain(
      `${device.tun_ipv4}/24`,
    );
  });

  it("pushes the device's config to its agent, which stores it 0600 and acknowledges", async () => {
    await cluster.api('POST', '/api/v1/devices', {
      device_id: 'rs-1',
      type: 'routing_server',
      name: 'Routing Server 1',
    });
    await cluster.api('POST', '/api/v1/devices/rs-1/config', {
      config: { tunnel: { mtu: 1400, port: 51820 } },
    });
    const ack = await cluster.api<PushConfigResponse>('POST', '/api/v1/devices/rs-1/push-config');
    expect(ack).toMatchObject({ device_id: 'rs-1', acknowledged: true });
    expect(Date.parse(ack.applied_at)).toBeGreaterThan(Date.now() - 10_000);
    const file = path.join(
      path.dirname(cluster.deployment.logDir),
      'agent-rs-1',
      'device-config.json',
    );
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      tunnel: { mtu: 1400, port: 51820 },
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
