import type { NetworkView, NicView } from '@qnet/contracts';
import { eui64LinkLocal } from '@qnet/netaddr';
import { waitFor } from '@qnet/stack';
import { DhcpClient, linkNamespaces, Netns, TestCluster } from '@qnet/testing';
import { rm } from 'node:fs/promises';
import path from 'node:path';

const HOST = 'gs-1';
const UPSTREAM_IP = '198.51.100.2';
const HOST_UPLINK_IP = '198.51.100.1';
const GATEWAY = '10.66.0.1';
const RUN_DIR = `/run/qnet/${HOST}-test`;

/**
 * An unsolicited neighbour advertisement (override flag) to all nodes: argv source, target,
 * interface. The kernel fills in an ICMPv6 raw socket's checksum.
 */
const SEND_NEIGHBOUR_ADVERTISEMENT = `
import socket, struct, sys
source, target, dev = sys.argv[1:4]
ifindex = socket.if_nametoindex(dev)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.bind((source, 0, 0, ifindex))
na = struct.pack('!BBHI', 136, 0, 0, 0x20000000) + socket.inet_pton(socket.AF_INET6, target)
s.sendto(na, ('ff02::1', 0, 0, ifindex))
`;

/**
 * A nat network that serves its guests, on a real kernel with a real agent and a real dnsmasq:
 * guests are namespaces running busybox's udhcpc, which must get exactly their IPAM address, the
 * gateway, the MTU and DNS; they find each other by name, reach an upstream namespace through
 * NAT, and cannot send as anyone else (port security), nor serve DHCP to the others.
 */
describe('guest services: DHCP and DNS from IPAM, port security', () => {
  let cluster: TestCluster;
  let host: Netns;
  let upstream: Netns;
  const guests: Netns[] = [];
  let network: NetworkView;
  const nics: NicView[] = [];
  let dhcp: DhcpClient;

  const lease = (g: Netns) => dhcp.lease(g);
  const nicView = (id: string) => cluster.api<NicView>('GET', `/v1/nics/${id}`);
  const resolve = async (g: Netns, name: string) =>
    (await g.exec(['busybox', 'nslookup', name, GATEWAY], { reject: false })).stdout;
  const applied = () =>
    waitFor(
      async () =>
        (await cluster.api<NetworkView>('GET', `/v1/networks/${network.id}`))
          .provisioning_status === 'ACTIVE',
      15_000,
      'network applied',
    );

  beforeAll(async () => {
    dhcp = await DhcpClient.create();
    host = await Netns.create('qgsh');
    upstream = await Netns.create('qgsu');
    for (let i = 0; i < 4; i++) guests.push(await Netns.create('qgsg'));
    await linkNamespaces(host, 'uplink0', upstream, 'eth0');
    await host.exec(['ip', 'addr', 'add', `${HOST_UPLINK_IP}/24`, 'dev', 'uplink0']);
    await host.exec(['ip', 'link', 'set', 'uplink0', 'up']);
    await upstream.exec(['ip', 'addr', 'add', `${UPSTREAM_IP}/24`, 'dev', 'eth0']);
    await upstream.exec(['ip', 'link', 'set', 'eth0', 'up']);
    cluster = await TestCluster.create({
      hostIds: [HOST],
      env: {
        HEARTBEAT_INTERVAL_MS: '500',
        RESYNC_INTERVAL_MS: '2000',
        DRIVER_STATUS_INTERVAL_MS: '500',
        AGENT_RUN_DIR: RUN_DIR,
      },
    });
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    cluster.start('node-agent', { hostId: HOST, mode: 'netns', netns: host.name });
    await cluster.waitForHosts([HOST]);
    network = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'Web Tier',
      bridge_name: 'qbrweb',
      host_id: HOST,
      cidr: '10.66.0.0/24',
      gateway: GATEWAY,
      mode: 'nat',
      mtu: 1400,
    });
    for (const [i, g] of guests.entries())
      nics.push(
        await cluster.api<NicView>('POST', '/v1/nics', {
          network_id: network.id,
          host_id: HOST,
          vm_id: `vm-${i}`,
          ...(i === 0 ? { hostname: 'web-a' } : {}),
          ...(i === 2 ? { allowed_address_pairs: [{ ip_address: '10.66.0.200' }] } : {}),
          ...(i === 3 ? { port_security: false } : {}),
          kind: 'veth',
          netns: g.name,
        }),
      );
    await applied();
  });

  afterAll(async () => {
    await cluster?.teardown();
    await Promise.all([host, upstream, ...guests].map((n) => n?.delete()));
    await rm(RUN_DIR, { recursive: true, force: true });
    await dhcp?.delete();
  });

  it('refuses DNS names and options it cannot serve, naming the field', async () => {
    const bad = async (p: string, body: object, field: string) => {
      const res = await cluster.http('POST', p, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(JSON.stringify(res.body)).toContain(field);
    };
    const nic = { network_id: network.id, host_id: HOST, vm_id: 'x' };
    await bad('/v1/nics', { ...nic, hostname: 'a\nserver=6.6.6.6' }, 'hostname');
    await bad('/v1/nics', { ...nic, hostname: 'UPPER' }, 'hostname');
    await bad(
      '/v1/nics',
      { ...nic, allowed_address_pairs: [{ ip_address: 'fe80::1' }] },
      'ip_address',
    );
    const net = { name: 'x', bridge_name: 'qbrx', host_id: HOST, cidr: '10.67.0.0/24' };
    await bad('/v1/networks', { ...net, dhcp: true }, 'dhcp');
    await bad(
      '/v1/networks',
      { ...net, gateway: '10.67.0.1', mode: 'nat', dns_servers: ['x'] },
      'dns_servers',
    );
    await bad(
      '/v1/networks',
      {
        ...net,
        gateway: '10.67.0.1',
        mode: 'nat',
        static_routes: [{ destination: '172.16.0.0/12', nexthop: '192.0.2.1' }],
      },
      'nexthop',
    );
    const all = await cluster.api<NicView[]>('GET', `/v1/nics?network_id=${network.id}`);
    expect(all).toHaveLength(4);
  });

  it('each guest leases exactly its IPAM address, with the gateway, MTU and DNS', async () => {
    expect(network.dns_domain).toBe('web-tier.qnet.internal');
    for (const [i, g] of guests.entries()) {
      const got = await lease(g);
      expect(got).toMatchObject({
        ip: nics[i]!.ip_address!,
        subnet: '255.255.255.0',
        router: GATEWAY,
        dns: GATEWAY,
        mtu: '1400',
        domain: 'web-tier.qnet.internal',
        serverid: GATEWAY,
      });
    }
  });

  it('resolves other guests by name, and reaches upstream masqueraded as the host', async () => {
    expect(await resolve(guests[1]!, 'web-a.web-tier.qnet.internal')).toContain(
      nics[0]!.ip_address!,
    );
    expect(await resolve(guests[0]!, 'vm-1.web-tier.qnet.internal')).toContain(
      nics[1]!.ip_address!,
    );
    await waitFor(() => guests[0]!.ping(UPSTREAM_IP, 1), 10_000, 'guest → upstream');
  });

  it('drops and counts what a guest sends as someone else; an allowed address pair passes', async () => {
    const [a, , c, open] = guests as [Netns, Netns, Netns, Netns];
    const before = (await nicView(nics[0]!.id)).port_security_drops;
    // A foreign source IP.
    await a.exec(['ip', 'addr', 'add', '10.66.0.250/24', 'dev', 'eth0']);
    expect(
      (
        await a.exec(['ping', '-c', '2', '-W', '1', '-I', '10.66.0.250', GATEWAY], {
          reject: false,
        })
      ).exitCode,
    ).not.toBe(0);
    // A gratuitous ARP claiming guest 1's address: the gateway keeps guest 1's MAC.
    await host.exec(['ping', '-c', '1', '-W', '1', nics[1]!.ip_address!]);
    await a.exec(
      ['arping', '-c', '2', '-U', '-I', 'eth0', '-s', nics[1]!.ip_address!, nics[1]!.ip_address!],
      {
        reject: false,
      },
    );
    const neigh = (await host.exec(['ip', 'neigh', 'show', nics[1]!.ip_address!])).stdout;
    expect(neigh).toContain(nics[1]!.guest_mac);
    // A foreign source MAC.
    await a.exec(['ip', 'link', 'set', 'eth0', 'address', '02:66:66:66:66:66']);
    expect(await a.ping(GATEWAY, 2)).toBe(false);
    await a.exec(['ip', 'link', 'set', 'eth0', 'address', nics[0]!.guest_mac]);
    await waitFor(
      async () => (await nicView(nics[0]!.id)).port_security_drops > before + 3,
      10_000,
      'the drops counted on the NIC',
    );
    // Guest 3 has no port security: the same foreign address passes.
    await open.exec(['ip', 'addr', 'add', '10.66.0.251/24', 'dev', 'eth0']);
    expect(
      (
        await open.exec(['ping', '-c', '2', '-W', '1', '-I', '10.66.0.251', GATEWAY], {
          reject: false,
        })
      ).exitCode,
    ).toBe(0);
    expect((await nicView(nics[3]!.id)).port_security).toBe(false);
    // Guest 2 may use 10.66.0.200 (its allowed address pair).
    await c.exec(['ip', 'addr', 'add', '10.66.0.200/24', 'dev', 'eth0']);
    expect(
      (
        await c.exec(['ping', '-c', '2', '-W', '1', '-I', '10.66.0.200', GATEWAY], {
          reject: false,
        })
      ).exitCode,
    ).toBe(0);
  });

  it("lets IPv6 through from the NIC's own link-local address only (IPAM is IPv4), unless the port is open", async () => {
    const [a, b, , open] = guests as [Netns, Netns, Netns, Netns];
    const ping6 = async (g: Netns, args: string[]) =>
      (await g.exec(['ping', '-6', '-c', '2', '-W', '1', ...args], { reject: false })).exitCode;
    const drops = async () => (await nicView(nics[1]!.id)).port_security_drops;
    for (const address of ['fe80::fe/64', '2001:db8:66::fe/64'])
      await host.exec(['ip', '-6', 'addr', 'add', address, 'dev', 'qbrweb', 'nodad']);
    // udhcpc's deconfig flushed the guests' kernel-made link-local addresses: they come back
    // by hand, each derived from the guest's MAC as the kernel derives it.
    const own = nics.map((n) => eui64LinkLocal(n.guest_mac));
    for (const [i, g] of [a, b, open].entries()) {
      const nic = i === 2 ? 3 : i;
      await g.exec(['ip', '-6', 'addr', 'replace', `${own[nic]}/64`, 'dev', 'eth0', 'nodad']);
    }
    // Neighbour discovery and traffic from the guest's own link-local address pass.
    await waitFor(
      async () => (await ping6(b, ['-I', 'eth0', 'fe80::fe'])) === 0,
      10_000,
      'guest → the bridge, link-local',
    );
    let before = await drops();
    await b.exec(['ip', '-6', 'addr', 'add', '2001:db8:66::2/64', 'dev', 'eth0', 'nodad']);
    expect(await ping6(b, ['-I', '2001:db8:66::2', '2001:db8:66::fe'])).not.toBe(0);
    await waitFor(async () => (await drops()) >= before + 2, 10_000, 'global IPv6 drops counted');
    // Another link-local address is someone else's (ND spoofing starts there).
    before = await drops();
    const [ownAddress, foreign] = [`${own[1]}/64`, 'fe80::2/64'];
    await b.exec(['ip', '-6', 'addr', 'del', ownAddress, 'dev', 'eth0']);
    await b.exec(['ip', '-6', 'addr', 'add', foreign, 'dev', 'eth0', 'nodad']);
    expect(await ping6(b, ['-I', 'eth0', 'fe80::fe'])).not.toBe(0);
    await waitFor(async () => (await drops()) >= before + 2, 10_000, 'foreign link-local drops');
    await b.exec(['ip', '-6', 'addr', 'del', foreign, 'dev', 'eth0']);
    await b.exec(['ip', '-6', 'addr', 'add', ownAddress, 'dev', 'eth0', 'nodad']);
    // A neighbour advertisement from its own address claiming guest a's: dropped, counted, and
    // never seen by a; the open port's passes.
    const advertisement = async (from: Netns, source: string) => {
      const seen = a.exec(
        ['timeout', '3', 'tcpdump', '-i', 'eth0', '-n', '-c', '1', `icmp6 and ip6[40] == 136`],
        { reject: false },
      );
      await new Promise((r) => setTimeout(r, 800)); // tcpdump listening
      await from.exec(['python3', '-c', SEND_NEIGHBOUR_ADVERTISEMENT, source, own[0]!, 'eth0']);
      return (await seen).stdout.includes(`tgt is ${own[0]}`);
    };
    before = await drops();
    expect(await advertisement(b, own[1]!)).toBe(false);
    await waitFor(
      async () => (await drops()) > before,
      10_000,
      'the spoofed advertisement counted',
    );
    expect(await advertisement(open, own[3]!)).toBe(true);
    await open.exec(['ip', '-6', 'addr', 'add', '2001:db8:66::3/64', 'dev', 'eth0', 'nodad']);
    expect(await ping6(open, ['-I', '2001:db8:66::3', '2001:db8:66::fe'])).toBe(0);
    await b.exec(['ip', '-6', 'addr', 'del', '2001:db8:66::2/64', 'dev', 'eth0']);
  });

  it('a rogue DHCP server in a guest serves no one', async () => {
    const rogue = guests[0]!;
    const daemon = rogue.exec(
      [
        'dnsmasq',
        '--no-daemon',
        '--port=0',
        '--interface=eth0',
        '--bind-interfaces',
        '--dhcp-range=10.66.0.100,10.66.0.150,1h',
        '--dhcp-authoritative',
        `--dhcp-leasefile=${path.join(dhcp.dir, 'rogue.leases')}`,
        `--pid-file=${path.join(dhcp.dir, 'rogue.pid')}`,
      ],
      { reject: false },
    );
    try {
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < 3; i++)
        expect(await lease(guests[1]!)).toMatchObject({
          ip: nics[1]!.ip_address!,
          serverid: GATEWAY,
        });
    } finally {
      await rogue.exec(['pkill', '-f', 'rogue.leases'], { reject: false });
      await daemon;
    }
  });

  it('a dnsmasq killed by hand comes back with the resync', async () => {
    const pidFile = path.join(RUN_DIR, 'dnsmasq', 'qbrweb', 'pid');
    const pid = (await host.exec(['cat', pidFile])).stdout.trim();
    process.kill(Number(pid), 'SIGKILL');
    await waitFor(
      async () => {
        const now = (await host.exec(['cat', pidFile], { reject: false })).stdout.trim();
        return (
          now !== pid && (await host.exec(['kill', '-0', now], { reject: false })).exitCode === 0
        );
      },
      15_000,
      'dnsmasq restarted',
    );
    expect(await lease(guests[1]!)).toMatchObject({ ip: nics[1]!.ip_address! });
  });

  it('renames a guest in the DNS with a SIGHUP, not a restart; refuses a name that is no label', async () => {
    const pidFile = path.join(RUN_DIR, 'dnsmasq', 'qbrweb', 'pid');
    const pid = (await host.exec(['cat', pidFile])).stdout.trim();
    const bad = await cluster.http('PATCH', `/v1/nics/${nics[0]!.id}`, {
      hostname: 'web-z\naddress=/#/6.6.6.6',
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('hostname');
    const renamed = await cluster.api<NicView>('PATCH', `/v1/nics/${nics[0]!.id}`, {
      hostname: 'web-z',
    });
    expect(renamed).toMatchObject({ hostname: 'web-z', ip_address: nics[0]!.ip_address });
    await waitFor(
      async () =>
        (await resolve(guests[1]!, 'web-z.web-tier.qnet.internal')).includes(nics[0]!.ip_address!),
      10_000,
      'the new name answers',
    );
    expect(await resolve(guests[1]!, 'web-a.web-tier.qnet.internal')).not.toContain(
      nics[0]!.ip_address!,
    );
    expect((await host.exec(['cat', pidFile])).stdout.trim()).toBe(pid);
  });

  it('detaching a NIC removes its lease, its name and its port rules', async () => {
    const gone = nics[1]!;
    await cluster.api('DELETE', `/v1/nics/${gone.id}`);
    await applied();
    // And one more NIC (with a range of its own, an interval element), added in place.
    const added = await cluster.api<NicView>('POST', '/v1/nics', {
      network_id: network.id,
      host_id: HOST,
      vm_id: 'vm-added',
      kind: 'tap',
      allowed_address_pairs: [{ ip_address: '10.66.0.64/28' }],
    });
    await applied();
    await waitFor(
      async () =>
        !(await resolve(guests[0]!, 'vm-1.web-tier.qnet.internal')).includes(gone.ip_address!),
      10_000,
      'name gone',
    );
    const hosts = (await host.exec(['cat', path.join(RUN_DIR, 'dnsmasq', 'qbrweb', 'dhcp-hosts')]))
      .stdout;
    expect(hosts).not.toContain(gone.guest_mac);
    const listing = async () =>
      (await host.exec(['nft', 'list', 'table', 'bridge', 'qnet_ports'])).stdout;
    const table = await listing();
    expect(table).not.toContain(gone.host_dev_name);
    expect(table).toContain(nics[0]!.host_dev_name);
    expect(table).toContain(`"${added.host_dev_name}" . ${added.guest_mac} . 10.66.0.64/28`);
    // This detach and attach changed the table in place (elements): it holds exactly what a
    // whole rewrite of the same state does — deleted by hand, the resync writes it anew.
    const contents = (t: string) =>
      t
        .split(/[\n,{}]/)
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('packets'))
        .sort();
    await host.exec(['nft', 'delete', 'table', 'bridge', 'qnet_ports']);
    await waitFor(
      async () => (await listing().catch(() => '')).includes('guest_ports'),
      10_000,
      'the table rewritten',
    );
    expect(contents(await listing())).toEqual(contents(table));
  });
});
