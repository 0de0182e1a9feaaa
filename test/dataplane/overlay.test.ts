import { execa } from 'execa';
import type { NetworkView, NicView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { Netns, TestCluster, Underlay } from '@qnet/testing';

const HOSTS = ['ov-1', 'ov-2', 'ov-3'] as const;

/**
 * Seed 002's "unicast with dynamic L3 entries" on a real kernel: three host namespaces on one
 * underlay, each with a real node-agent process; "VMs" are namespaces whose veth NICs are created
 * through the API. The registry is the only source of MACs and IPs.
 */
describe('multi-host VXLAN overlays programmed by the agents', () => {
  let cluster: TestCluster;
  let underlay: Underlay;
  let hosts: Netns[] = [];
  const vms = new Map<string, { ns: Netns; nic: NicView }>();
  const nets: Record<'a' | 'b', NetworkView> = {} as never;

  async function attachVm(name: string, net: 'a' | 'b', host: number): Promise<void> {
    const ns = await Netns.create('qvm');
    const nic = await cluster.api<NicView>('POST', '/v1/nics', {
      network_id: nets[net].id,
      host_id: HOSTS[host],
      vm_id: name,
      kind: 'veth',
      netns: ns.name,
    });
    vms.set(name, { ns, nic });
  }

  const ip = (vm: string) => vms.get(vm)!.nic.ip_address!;
  const ping = (from: string, to: string, count = 1) => vms.get(from)!.ns.ping(ip(to), count);
  const fdbMacs = async (host: number, dev: string) =>
    (await hosts[host]!.exec(['bridge', '-j', 'fdb', 'show', 'dev', dev])).stdout;

  /** tcpdump on the underlay: every VXLAN packet's inner protocol. */
  const capture = () => underlay.ns.capture('ub', 'udp port 4789');

  beforeAll(async () => {
    underlay = await Underlay.create(HOSTS.length, '172.31.0');
    hosts = underlay.hosts;
    cluster = await TestCluster.create({
      hostIds: [...HOSTS],
      env: { HEARTBEAT_INTERVAL_MS: '500', RESYNC_INTERVAL_MS: '5000' },
    });
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    HOSTS.forEach((id, i) =>
      cluster.start(
        'node-agent',
        { hostId: id, mode: 'netns', netns: hosts[i]!.name },
        { QNET_UNDERLAY_IP: underlay.ip(i) },
      ),
    );
    await cluster.waitForHosts([...HOSTS]);
    nets.a = await cluster.api('POST', '/v1/networks', {
      name: 'overlay-a',
      network_type: 'overlay',
      host_ids: [...HOSTS],
      cidr: '10.90.0.0/24',
      project_id: 'pa',
    });
    nets.b = await cluster.api('POST', '/v1/networks', {
      name: 'overlay-b',
      network_type: 'overlay',
      host_ids: ['ov-1', 'ov-2'],
      cidr: '10.90.0.0/24',
      project_id: 'pb',
    });
    await attachVm('a1', 'a', 0);
    await attachVm('a2', 'a', 1);
    await attachVm('a3', 'a', 2);
    await attachVm('b1', 'b', 0);
    await attachVm('b2', 'b', 1);
  });

  afterAll(async () => {
    await cluster?.teardown();
    await Promise.all([underlay, ...[...vms.values()].map((v) => v.ns)].map((n) => n?.delete()));
  });

  it('every VM pings every other VM of its overlay, and no ARP crosses the underlay', async () => {
    const pairs = ['a1', 'a2', 'a3'].flatMap((from) =>
      ['a1', 'a2', 'a3'].filter((to) => to !== from).map((to) => [from, to] as const),
    );
    for (const [from, to] of pairs) await waitFor(() => ping(from, to), 15_000, `${from} → ${to}`);
    for (const { ns } of vms.values()) await ns.exec(['ip', 'neigh', 'flush', 'all']);
    const cap = capture();
    let lines: string[] = [];
    try {
      await cap.ready;
      for (const [from, to] of pairs)
        expect({ from, to, ok: await ping(from, to, 2) }).toEqual({ from, to, ok: true });
    } finally {
      lines = await cap.stop();
    }
    // The capture works (it saw the pings inside VXLAN) and saw no ARP: the bridges answered locally.
    expect(lines.filter((l) => l.includes('ICMP echo request')).length).toBeGreaterThanOrEqual(6);
    expect(lines.filter((l) => /ARP/.test(l))).toEqual([]);
  });

  it('keeps two overlays with the same CIDR isolated', async () => {
    expect(ip('b1')).toBe(ip('a1'));
    await waitFor(async () => ping('b1', 'b2'), 10_000, 'b1 → b2');
    // 10.90.0.3 exists only in overlay a.
    expect(await vms.get('b1')!.ns.ping(ip('a3'), 2)).toBe(false);
  });

  it('detaching a NIC stops its traffic and removes its entries on every host', async () => {
    const a3 = vms.get('a3')!.nic;
    const dev = `vx${nets.a.vni}`;
    expect(await fdbMacs(0, dev)).toContain(a3.guest_mac);
    await cluster.api('DELETE', `/v1/nics/${a3.id}`);
    await waitFor(
      async () =>
        !(await fdbMacs(0, dev)).includes(a3.guest_mac) &&
        !(await fdbMacs(1, dev)).includes(a3.guest_mac),
      10_000,
      "a3's entries gone from hosts 1 and 2",
    );
    expect(await ping('a1', 'a3', 2)).toBe(false);
    expect(
      (await hosts[2]!.exec(['ip', 'link', 'show', a3.host_dev_name], { reject: false })).exitCode,
    ).not.toBe(0);
    expect(await ping('a1', 'a2')).toBe(true);
  });

  it('an address that changes hands answers at its new MAC within 1 s of the attach', async () => {
    // a1 (ov-1) has talked to a2 (ov-2): its ARP cache holds a2's MAC for the next 15-45 s.
    expect(await ping('a1', 'a2')).toBe(true);
    const old = vms.get('a2')!;
    await cluster.api('DELETE', `/v1/nics/${old.nic.id}`);
    const dev = `vx${nets.a.vni}`;
    await waitFor(
      async () => !(await fdbMacs(0, dev)).includes(old.nic.guest_mac),
      10_000,
      "a2's entries gone from ov-1",
    );
    // The same address, asked for explicitly, with a new MAC on the third host.
    const ns = await Netns.create('qvm');
    const tap = capture();
    await tap.ready;
    const nic = await cluster.api<NicView>('POST', '/v1/nics', {
      network_id: nets.a.id,
      host_id: HOSTS[2],
      vm_id: 'a2-again',
      kind: 'veth',
      netns: ns.name,
      ip_address: old.nic.ip_address,
    });
    const attached = Date.now();
    expect(nic.guest_mac).not.toBe(old.nic.guest_mac);
    vms.set('a2', { ns, nic });
    await old.ns.delete();
    const a1 = vms.get('a1')!.ns;
    while (
      (await a1.exec(['ping', '-c', '1', '-W', '0.1', nic.ip_address!], { reject: false }))
        .exitCode !== 0
    ) {
      if (Date.now() - attached > 5_000) break;
    }
    const elapsed = Date.now() - attached;
    console.log(`re-used address answered ${elapsed} ms after the attach`);
    expect(elapsed).toBeLessThan(1_000);
    // The announcements stayed on each host: still no ARP on the underlay.
    expect((await tap.stop()).filter((l) => /ARP/.test(l))).toEqual([]);
  });

  it('an agent killed, its bridge deleted by hand and the agent restarted: traffic is restored', async () => {
    expect(await cluster.stop('node-agent-ov-1')).toBe(0);
    await hosts[0]!.exec(['ip', 'link', 'del', nets.a.bridge_name]);
    expect(await ping('a1', 'a2', 1)).toBe(false);
    cluster.start(
      'node-agent',
      { hostId: 'ov-1', mode: 'netns', netns: hosts[0]!.name },
      { QNET_UNDERLAY_IP: underlay.ip(0) },
    );
    await waitFor(async () => ping('a1', 'a2'), 15_000, 'a1 → a2 after the restart');
    expect(await ping('b1', 'b2')).toBe(true);
  });

  it('a VM NIC is a TAP in its bridge, created by the agent of its host', async () => {
    const tap = await cluster.api<NicView>('POST', '/v1/nics', {
      network_id: nets.a.id,
      host_id: 'ov-2',
      vm_id: 'vm-tap',
      host_dev_name: 'tap-vm-1',
    });
    expect(tap.kind).toBe('tap');
    const link = async () => {
      const r = await hosts[1]!.exec(['ip', '-j', '-d', 'link', 'show', 'tap-vm-1'], {
        reject: false,
      });
      return r.exitCode === 0
        ? (
            JSON.parse(r.stdout) as {
              master?: string;
              mtu: number;
              linkinfo: { info_kind: string };
            }[]
          )[0]
        : undefined;
    };
    await waitFor(async () => (await link())?.master === nets.a.bridge_name, 10_000, 'tap-vm-1');
    expect(await link()).toMatchObject({ mtu: 1450, linkinfo: { info_kind: 'tun' } });
  });

  it('a NIC naming a namespace its host lacks is ERROR with the reason; the rest of the network applies', async () => {
    const missing = `qgone-${process.pid}`;
    const bad = await cluster.api<NicView>('POST', '/v1/nics', {
      network_id: nets.a.id,
      host_id: 'ov-1',
      vm_id: 'vm-no-ns',
      kind: 'veth',
      netns: missing,
    });
    const nic = async (id: string) => cluster.api<NicView>('GET', `/v1/nics/${id}`);
    await waitFor(async () => (await nic(bad.id)).provisioning_status === 'ERROR', 10_000, 'ERROR');
    expect((await nic(bad.id)).status_message).toBe(
      `network namespace "${missing}" does not exist on this host`,
    );
    // The same host still applies what it can: a NIC attached after it is ACTIVE, traffic flows.
    await attachVm('a9', 'a', 0);
    await waitFor(
      async () => (await nic(vms.get('a9')!.nic.id)).provisioning_status === 'ACTIVE',
      10_000,
      'a9 ACTIVE',
    );
    await waitFor(async () => ping('a9', 'a2'), 10_000, 'a9 → a2');
    const net = await cluster.api<NetworkView>('GET', `/v1/networks/${nets.a.id}`);
    expect(JSON.stringify(net)).not.toContain('ERROR');
    // Once the namespace exists, the next resync creates the NIC and it becomes ACTIVE.
    await execa('ip', ['netns', 'add', missing]);
    try {
      await waitFor(
        async () => (await nic(bad.id)).provisioning_status === 'ACTIVE',
        15_000,
        'ACTIVE',
      );
      expect((await nic(bad.id)).status_message).toBeNull();
    } finally {
      await execa('ip', ['netns', 'del', missing]);
    }
  });
});
