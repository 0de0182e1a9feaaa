import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { NetworkView, NicView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { DhcpClient, Netns, TestCluster, Underlay } from '@qnet/testing';

const HOSTS = ['og-1', 'og-2', 'og-3'] as const;
const GATEWAY = '10.92.0.1';
const UPSTREAM = '172.31.4.254';
const runDir = (host: string) => `/run/qnet/${host}-test`;

/**
 * A nat overlay on three real hosts: every member host carries the gateway (one address, one MAC)
 * and serves DHCP and DNS to its own guests, which are namespaces running busybox's udhcpc. Their
 * first hop is their own host, which masquerades them; neither DHCP nor the gateway's frames ever
 * cross the underlay, where a tcpdump watches.
 */
describe('a nat overlay: a distributed gateway, DHCP and DNS on every host, none of it on the underlay', () => {
  let cluster: TestCluster;
  let underlay: Underlay;
  let dhcp: DhcpClient;
  let network: NetworkView;
  const guests: Netns[] = [];
  const nics: NicView[] = [];
  let gatewayMac: string;

  const host = (i: number) => underlay.hosts[i]!;
  const resolve = async (g: Netns, name: string) =>
    (await g.exec(['busybox', 'nslookup', name, GATEWAY], { reject: false })).stdout;
  const applied = () =>
    waitFor(
      async () =>
        (await cluster.api<NetworkView>('GET', `/v1/networks/${network.id}`))
          .provisioning_status === 'ACTIVE',
      20_000,
      'overlay applied on every host',
    );

  beforeAll(async () => {
    dhcp = await DhcpClient.create();
    underlay = await Underlay.create(HOSTS.length, '172.31.4');
    // The upstream network the hosts masquerade into lives on the underlay's own bridge.
    await underlay.ns.exec(['ip', 'addr', 'add', `${UPSTREAM}/24`, 'dev', 'ub']);
    cluster = await TestCluster.create({
      hostIds: [...HOSTS],
      env: {
        HEARTBEAT_INTERVAL_MS: '500',
        RESYNC_INTERVAL_MS: '2000',
        DRIVER_STATUS_INTERVAL_MS: '500',
      },
    });
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    HOSTS.forEach((id, i) =>
      cluster.start(
        'node-agent',
        { hostId: id, mode: 'netns', netns: host(i).name },
        { QNET_UNDERLAY_IP: underlay.ip(i), AGENT_RUN_DIR: runDir(id) },
      ),
    );
    await cluster.waitForHosts([...HOSTS]);
    network = await cluster.api<NetworkView>('POST', '/v1/networks', {
      name: 'Edge',
      network_type: 'overlay',
      host_ids: [...HOSTS],
      cidr: '10.92.0.0/24',
      gateway: GATEWAY,
      mode: 'nat',
    });
    gatewayMac = `02:71:6e:${network
      .vni!.toString(16)
      .padStart(6, '0')
      .replace(/(..)(..)(..)/, '$1:$2:$3')}`;
    for (const [i, id] of HOSTS.entries()) {
      const g = await Netns.create('qogg');
      guests.push(g);
      nics.push(
        await cluster.api<NicView>('POST', '/v1/nics', {
          network_id: network.id,
          host_id: id,
          vm_id: `vm-${i}`,
          kind: 'veth',
          netns: g.name,
        }),
      );
    }
    await applied();
  });

  afterAll(async () => {
    await cluster?.teardown();
    await Promise.all([underlay, ...guests].map((n) => n?.delete()));
    await Promise.all(HOSTS.map((id) => rm(runDir(id), { recursive: true, force: true })));
    await dhcp?.delete();
  });

  it('refuses the mode an overlay cannot serve, naming the field', async () => {
    const res = await cluster.http('POST', '/v1/networks', {
      name: 'x-bridged',
      network_type: 'overlay',
      host_ids: [...HOSTS],
      cidr: '10.93.0.0/24',
      gateway: '10.93.0.1',
      mode: 'bridged',
      uplink_interface: 'eth0',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ details: [{ field: 'mode' }] });
  });

  it('each guest leases its IPAM address from its own host, and no DHCP crosses the underlay', async () => {
    const cap = underlay.ns.capture('ub', 'udp port 4789');
    let lines: string[] = [];
    try {
      await cap.ready;
      for (const [i, g] of guests.entries())
        expect({ i, lease: await dhcp.lease(g) }).toMatchObject({
          i,
          lease: {
            ip: nics[i]!.ip_address!,
            subnet: '255.255.255.0',
            router: GATEWAY,
            dns: GATEWAY,
            mtu: String(network.mtu),
            domain: 'edge.qnet.internal',
            serverid: GATEWAY,
          },
        });
      // Guest to guest goes over the overlay: the capture sees it.
      expect(await guests[0]!.ping(nics[1]!.ip_address!, 2)).toBe(true);
    } finally {
      lines = await cap.stop();
    }
    expect(lines.filter((l) => l.includes('ICMP echo request')).length).toBeGreaterThan(0);
    expect(lines.filter((l) => /BOOTP|DHCP/.test(l))).toEqual([]);
    // Each host's dnsmasq leased its own guest only.
    for (const [i, id] of HOSTS.entries()) {
      const leases = (
        await host(i).exec([
          'cat',
          path.join(runDir(id), 'dnsmasq', network.bridge_name!, 'leases'),
        ])
      ).stdout;
      const macs = nics.filter((n) => leases.includes(n.guest_mac)).map((n) => n.host_id);
      expect({ id, macs }).toEqual({ id, macs: [id] });
    }
  });

  it('resolves guests on other hosts by name', async () => {
    expect(await resolve(guests[0]!, 'vm-2.edge.qnet.internal')).toContain(nics[2]!.ip_address!);
    expect(await resolve(guests[2]!, 'vm-1.edge.qnet.internal')).toContain(nics[1]!.ip_address!);
  });

  it('reaches upstream through its own host, masqueraded as that host, with no hairpin', async () => {
    for (const [i, g] of guests.entries()) {
      await g.exec(['ip', 'neigh', 'flush', 'all']);
      const cap = underlay.ns.capture('ub', `icmp or udp port 4789 or arp host ${GATEWAY}`);
      let lines: string[] = [];
      try {
        await cap.ready;
        expect({ i, up: await g.ping(UPSTREAM, 2) }).toEqual({ i, up: true });
      } finally {
        lines = await cap.stop();
      }
      const requests = lines.filter((l) => l.includes('ICMP echo request'));
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.every((l) => l.includes(`IP ${underlay.ip(i)} > ${UPSTREAM}`))).toBe(true);
      // The guest's first hop answered from its own host: nothing of it went over VXLAN. tcpdump
      // prints a VXLAN packet's inner frame on the next line; other frames (a guest's IPv6
      // router solicitation, say) may cross and are not this test's business.
      const ours = [GATEWAY, UPSTREAM, nics[i]!.ip_address!];
      const crossed = lines
        .map((l, n) => (/VXLAN/.test(l) ? `${l} / ${lines[n + 1] ?? ''}` : ''))
        .filter((l) => ours.some((a) => l.includes(` ${a}`) || l.includes(`${a} `)));
      expect({ i, crossed }).toEqual({ i, crossed: [] });
      expect(lines.filter((l) => /^\S+ ARP/.test(l))).toEqual([]);
      expect((await g.exec(['ip', 'neigh', 'show', GATEWAY])).stdout).toContain(gatewayMac);
    }
  });

  it("the gateway's MAC is on every member bridge and in no host's table towards the underlay", async () => {
    for (const [i] of HOSTS.entries()) {
      const link = JSON.parse(
        (await host(i).exec(['ip', '-j', 'link', 'show', network.bridge_name!])).stdout,
      ) as { address: string }[];
      expect(link[0]!.address).toBe(gatewayMac);
      const fdb = JSON.parse(
        (await host(i).exec(['bridge', '-j', 'fdb', 'show', 'br', network.bridge_name!])).stdout,
      ) as { mac: string; ifname?: string }[];
      const elsewhere = fdb.filter(
        (e) => e.mac === gatewayMac && e.ifname && e.ifname !== network.bridge_name,
      );
      expect({ i, elsewhere }).toEqual({ i, elsewhere: [] });
    }
  });

  it('routed: upstream reaches every guest by its own address through any one host, and sees it unmasqueraded', async () => {
    await cluster.api('PATCH', `/v1/networks/${network.id}`, { mode: 'routed' });
    await applied();
    const agentRoutes = async (i: number) =>
      JSON.parse((await host(i).exec(['ip', '-j', 'route', 'show', 'proto', '113'])).stdout) as {
        dst: string;
        gateway: string;
      }[];
    // Each host routes every other host's guest to that host over the underlay.
    for (const [i] of HOSTS.entries())
      expect((await agentRoutes(i)).map((r) => `${r.dst} via ${r.gateway}`).sort()).toEqual(
        nics.flatMap((n, j) => (j === i ? [] : [`${n.ip_address} via ${underlay.ip(j)}`])).sort(),
      );
    // The upstream router knows the network through host 0 only.
    await underlay.ns.exec(['ip', 'route', 'replace', '10.92.0.0/24', 'via', underlay.ip(0)]);
    try {
      for (const [i, g] of guests.entries()) {
        const cap = underlay.ns.capture('ub', 'icmp');
        let lines: string[] = [];
        try {
          await cap.ready;
          expect({ i, in: await underlay.ns.ping(nics[i]!.ip_address!, 2) }).toEqual({
            i,
            in: true,
          });
          expect({ i, out: await g.ping(UPSTREAM, 2) }).toEqual({ i, out: true });
        } finally {
          lines = await cap.stop();
        }
        const out = lines.filter((l) => l.includes(`> ${UPSTREAM}: ICMP echo request`));
        expect(out.length).toBeGreaterThan(0);
        expect({ i, out }).toEqual({
          i,
          out: out.filter((l) => l.includes(`IP ${nics[i]!.ip_address} > ${UPSTREAM}`)),
        });
      }
    } finally {
      await underlay.ns.exec(['ip', 'route', 'del', '10.92.0.0/24']);
    }
    // Back to nat: the routes are gone, and guests leave masqueraded again.
    await cluster.api('PATCH', `/v1/networks/${network.id}`, { mode: 'nat' });
    await applied();
    for (const [i] of HOSTS.entries()) expect(await agentRoutes(i)).toEqual([]);
    expect(await guests[1]!.ping(UPSTREAM, 2)).toBe(true);
  });

  it('detaching a NIC removes its name on every host', async () => {
    const gone = nics[2]!;
    await cluster.api('DELETE', `/v1/nics/${gone.id}`);
    await applied();
    for (const g of guests.slice(0, 2))
      await waitFor(
        async () => !(await resolve(g, 'vm-2.edge.qnet.internal')).includes(gone.ip_address!),
        10_000,
        'name gone',
      );
    expect(await resolve(guests[1]!, 'vm-0.edge.qnet.internal')).toContain(nics[0]!.ip_address!);
  });

  it('back to isolated, every bridge gives the shared gateway MAC back, and guests still meet', async () => {
    await cluster.api('PATCH', `/v1/networks/${network.id}`, { mode: 'isolated' });
    await applied();
    const macs = [];
    for (const [i] of HOSTS.entries()) {
      const [link] = JSON.parse(
        (await host(i).exec(['ip', '-j', 'link', 'show', network.bridge_name!])).stdout,
      ) as { address: string }[];
      macs.push(link!.address);
    }
    expect(macs.filter((m) => m.startsWith('02:71:6e:'))).toEqual([]);
    expect(new Set(macs).size).toBe(HOSTS.length);
    // The neighbour entries the MAC change flushed are back: guests on two hosts still meet.
    expect(await guests[0]!.ping(nics[1]!.ip_address!, 2)).toBe(true);
  });
});
