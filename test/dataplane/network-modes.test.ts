import type { HostView, NetworkView, NicView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { linkNamespaces, Netns, TestCluster } from '@qnet/testing';

const HOST = 'nm-1';
const UPSTREAM_IP = '198.51.100.2';
const HOST_UPLINK_IP = '198.51.100.1';
const LAN_PEER_IP = '192.168.50.2';

/**
 * Network modes on a real kernel: a host namespace run by a real agent, an "upstream" namespace
 * beyond its uplink (with no route to the guests' network), and a guest whose veth NIC is made
 * through the API. nat: the guest's traffic leaves masqueraded as the host; routed: it leaves with
 * its own address and upstream reaches it back by a route; isolated: no gateway at all; bridged:
 * the bridge enslaves an uplink, and a guest is on the LAN behind it at layer 2.
 */
describe('network modes: isolated, nat, routed', () => {
  let cluster: TestCluster;
  let host: Netns;
  let upstream: Netns;
  let guest: Netns;
  let lan: Netns;
  let lanGuest: Netns;
  let network: NetworkView;
  let nic: NicView;

  /** The source address upstream sees for one UDP datagram from the guest (undefined: none came). */
  async function sourceSeenUpstream(): Promise<string | undefined> {
    const listener = upstream.exec(
      [
        'python3',
        '-c',
        'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(3);s.bind(("0.0.0.0",9999))\ntry:\n  print(s.recvfrom(64)[1][0])\nexcept OSError:\n  pass',
      ],
      { reject: false },
    );
    await new Promise((r) => setTimeout(r, 300));
    await guest.exec(
      [
        'python3',
        '-c',
        `import socket;socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b"x",("${UPSTREAM_IP}",9999))`,
      ],
      { reject: false },
    );
    return (await listener).stdout.trim() || undefined;
  }

  const bridgeAddresses = async () =>
    (await host.exec(['ip', '-4', '-o', 'addr', 'show', 'dev', network.bridge_name])).stdout;
  const natTable = async () =>
    (await host.exec(['nft', 'list', 'table', 'ip', 'qnet_nat'], { reject: false })).exitCode === 0;
  const setMode = async (mode: string) => {
    await cluster.api('PATCH', `/v1/networks/${network.id}`, { mode });
    await waitFor(
      async () =>
        (await cluster.api<NetworkView>('GET', `/v1/networks/${network.id}`))
          .provisioning_status === 'ACTIVE',
      15_000,
      `${mode} applied`,
    );
  };

  beforeAll(async () => {
    host = await Netns.create('qnmh');
    upstream = await Netns.create('qnmu');
    guest = await Netns.create('qnmg');
    lan = await Netns.create('qnml');
    lanGuest = await Netns.create('qnmg');
    await linkNamespaces(host, 'lan0', lan, 'eth0');
    await lan.exec(['ip', 'addr', 'add', `${LAN_PEER_IP}/24`, 'dev', 'eth0']);
    await lan.exec(['ip', 'link', 'set', 'eth0', 'up']);
    await linkNamespaces(host, 'uplink0', upstream, 'eth0');
    await host.exec(['ip', 'addr', 'add', `${HOST_UPLINK_IP}/24`, 'dev', 'uplink0']);
    await host.exec(['ip', 'link', 'set', 'uplink0', 'up']);
    await upstream.exec(['ip', 'addr', 'add', `${UPSTREAM_IP}/24`, 'dev', 'eth0']);
    await upstream.exec(['ip', 'link', 'set', 'eth0', 'up']);
    cluster = await TestCluster.create({
      hostIds: [HOST],
      env: { HEARTBEAT_INTERVAL_MS: '500', RESYNC_INTERVAL_MS: '2000' },
    });
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    cluster.start('node-agent', { hostId: HOST, mode: 'netns', netns: host.name });
    await cluster.waitForHosts([HOST]);
    network = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'guests',
      bridge_name: 'qbrguest',
      host_id: HOST,
      cidr: '10.60.0.0/24',
      gateway: '10.60.0.1',
      mode: 'nat',
    });
    nic = await cluster.api<NicView>('POST', '/v1/nics', {
      network_id: network.id,
      host_id: HOST,
      vm_id: 'guest-1',
      kind: 'veth',
      netns: guest.name,
    });
  });

  afterAll(async () => {
    await cluster?.teardown();
    await Promise.all([host, upstream, guest, lan, lanGuest].map((n) => n?.delete()));
  });

  it('refuses a mode it cannot serve, naming the field, and changes nothing', async () => {
    const bad = async (body: object, field: string) => {
      const res = await cluster.http('POST', '/v1/networks', { name: 'x', ...body });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(JSON.stringify(res.body)).toContain(field);
    };
    await bad({ bridge_name: 'qbrx', host_id: HOST, mode: 'nat', cidr: '10.61.0.0/24' }, 'gateway');
    await bad({ bridge_name: 'qbrx', host_id: HOST, mode: 'routed' }, 'cidr');
    await bad({ bridge_name: 'qbrx', host_id: HOST, mode: 'bridging' }, 'mode');
    await bad({ bridge_name: 'qbrx', host_id: HOST, mode: 'bridged' }, 'uplink_interface');
    await bad(
      { bridge_name: 'qbrx', host_id: HOST, mode: 'bridged', uplink_interface: 'eth0; reboot' },
      'uplink_interface',
    );
    await bad(
      { bridge_name: 'qbrx', host_id: HOST, uplink_interface: 'lan0', cidr: '10.61.0.0/24' },
      'uplink_interface',
    );
    const toBridged = await cluster.http('PATCH', `/v1/networks/${network.id}`, {
      mode: 'bridged',
    });
    expect(toBridged.status).toBe(400);
    expect(JSON.stringify(toBridged.body)).toContain('mode');
    await bad(
      {
        network_type: 'overlay',
        host_ids: [HOST],
        mode: 'bridged',
        uplink_interface: 'lan0',
        cidr: '10.62.0.0/24',
        gateway: '10.62.0.1',
      },
      'mode',
    );
    const networks = await cluster.api<NetworkView[]>('GET', '/v1/networks');
    expect(networks.map((n) => n.name)).toEqual(['guests']);
  });

  it('refuses an uplink the host lacks (412 naming the host), from what its agent reports', async () => {
    const reported = await cluster.api<HostView>('GET', `/v1/hosts/${HOST}`);
    // Possible uplinks only: not loopback, not a bridge, not the agent's own veths.
    expect(reported.interfaces).toEqual(['lan0', 'uplink0']);
    const lacks = async (res: { status: number; body: unknown }, field: string) => {
      expect(res.status).toBe(412);
      expect(JSON.stringify(res.body)).toContain(`host ${HOST} lacks interface eth9`);
      expect(JSON.stringify(res.body)).toContain(field);
    };
    const body = { bridge_name: 'qbrx', mode: 'bridged', uplink_interface: 'eth9' };
    await lacks(
      await cluster.http('POST', '/v1/networks', { name: 'x', host_id: HOST, ...body }),
      'uplink_interface',
    );
    // Without a host the network is built where its NICs are: the attach is refused instead.
    const anywhere = await cluster.api<NetworkView>('POST', '/v1/networks', { name: 'y', ...body });
    const attach = { network_id: anywhere.id, host_id: HOST, vm_id: 'y-1', kind: 'tap' };
    await lacks(await cluster.http('POST', '/v1/nics', attach), 'host_id');
    expect(await cluster.api<NicView[]>('GET', `/v1/nics?network_id=${anywhere.id}`)).toEqual([]);
    await cluster.api('DELETE', `/v1/networks/${anywhere.id}`);
    const networks = await cluster.api<NetworkView[]>('GET', '/v1/networks');
    expect(networks.map((n) => n.name)).toEqual(['guests']);
  });

  it('nat: the guest reaches upstream through its gateway, masqueraded as the host', async () => {
    expect(network.mode).toBe('nat');
    await waitFor(() => guest.ping(UPSTREAM_IP, 1), 15_000, 'guest → upstream');
    expect(await bridgeAddresses()).toContain('10.60.0.1/24');
    expect(await sourceSeenUpstream()).toBe(HOST_UPLINK_IP);
    // Upstream has no route to the guests: it cannot reach one by its own address.
    expect(await upstream.ping(nic.ip_address!, 1)).toBe(false);
  });

  it('routed: no NAT — upstream sees the guest itself, and reaches it by a route', async () => {
    await setMode('routed');
    await waitFor(async () => !(await natTable()), 10_000, 'the NAT table gone');
    await upstream.exec(['ip', 'route', 'add', '10.60.0.0/24', 'via', HOST_UPLINK_IP]);
    expect(await sourceSeenUpstream()).toBe(nic.ip_address);
    expect(await upstream.ping(nic.ip_address!, 2)).toBe(true);
  });

  it('isolated: the gateway leaves the bridge and nothing is forwarded; nat again restores it', async () => {
    await setMode('isolated');
    await waitFor(
      async () => !(await bridgeAddresses()).includes('10.60.0.1'),
      10_000,
      'the gateway removed from the bridge',
    );
    expect(await guest.ping(UPSTREAM_IP, 1)).toBe(false);
    await setMode('nat');
    await waitFor(() => guest.ping(UPSTREAM_IP, 1), 15_000, 'guest → upstream again');
    expect(await sourceSeenUpstream()).toBe(HOST_UPLINK_IP);
  });

  it('repairs drift: a NAT table deleted by hand comes back with the next resync', async () => {
    await host.exec(['nft', 'delete', 'table', 'ip', 'qnet_nat']);
    await waitFor(natTable, 10_000, 'the NAT table restored');
    expect(await sourceSeenUpstream()).toBe(HOST_UPLINK_IP);
  });

  it('bridged: the bridge enslaves the uplink, and a guest is on the LAN behind it', async () => {
    const bridged = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'lan',
      bridge_name: 'qbrlan',
      host_id: HOST,
      mode: 'bridged',
      uplink_interface: 'lan0',
      cidr: '192.168.50.0/24',
      reserved_ranges: ['192.168.50.1-192.168.50.9'],
    });
    expect(bridged).toMatchObject({ mode: 'bridged', uplink_interface: 'lan0' });
    const lanNic = await cluster.api<NicView>('POST', '/v1/nics', {
      network_id: bridged.id,
      host_id: HOST,
      vm_id: 'lan-guest',
      kind: 'veth',
      netns: lanGuest.name,
    });
    await waitFor(() => lanGuest.ping(LAN_PEER_IP, 1), 15_000, 'guest → LAN peer');
    const master = JSON.parse((await host.exec(['ip', '-j', 'link', 'show', 'lan0'])).stdout) as {
      master?: string;
    }[];
    expect(master[0]!.master).toBe('qbrlan');
    // Layer 2: the LAN peer learned the guest's own MAC.
    const neigh = (await lan.exec(['ip', 'neigh', 'show', lanNic.ip_address!])).stdout;
    expect(neigh.toLowerCase()).toContain(lanNic.guest_mac.toLowerCase());
    // The bridged network's CIDR is the LAN's: the host's own address in it, on the bridge, is not
    // the agent's to remove — it survives resyncs, and the host reaches the LAN with it.
    await host.exec(['ip', 'addr', 'add', '192.168.50.1/24', 'dev', 'qbrlan']);
    await new Promise((r) => setTimeout(r, 4_500)); // two resyncs
    const addrs = (await host.exec(['ip', '-4', '-o', 'addr', 'show', 'dev', 'qbrlan'])).stdout;
    expect(addrs).toContain('192.168.50.1/24');
    expect(await host.ping(LAN_PEER_IP, 1)).toBe(true);
  });
});
