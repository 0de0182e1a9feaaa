import { renderLinuxSpec, type RenderInput } from './linux-render.js';

const guestServices = { dhcp: false, dns_servers: [], static_routes: [] };
const overlay = {
  id: 'n1',
  name: 'overlay',
  ...guestServices,
  type: 'overlay' as const,
  mode: 'isolated' as const,
  uplink_interface: null,
  vni: 7,
  vlan_id: null,
  bridge_name: 'qbr7',
  mtu: 1450,
  cidr: '10.0.0.0/24',
  prefix: 24,
  gateway: '10.0.0.1',
};
const nic = (host: string, mac: string, ip: string | null, dev: string, reused = false) => ({
  network_id: 'n1',
  host_id: host,
  kind: 'veth' as const,
  mac,
  ip,
  reused,
  host_dev_name: dev,
  iface_id: 'eth0',
  netns: `ns-${dev}`,
  vm_id: `vm-${dev}`,
  hostname: null,
  port_security: false,
  allowed_address_pairs: [],
});

describe('registry → linux desired state', () => {
  const input: RenderInput = {
    hostId: 'h1',
    underlayIp: '192.0.2.1',
    networks: [
      overlay,
      {
        id: 'n2',
        name: 'vlan',
        ...guestServices,
        type: 'vlan',
        mode: 'isolated',
        uplink_interface: null,
        vni: null,
        vlan_id: 10,
        bridge_name: 'fcbr0',
        mtu: 1500,
        cidr: null,
        prefix: null,
        gateway: null,
      },
    ],
    members: new Map([
      [
        'n1',
        new Map([
          ['h1', '192.0.2.1'],
          ['h2', '192.0.2.2'],
          ['h3', '192.0.2.3'],
        ]),
      ],
    ]),
    dnsDomain: 'qnet.internal',
    nics: [
      nic('h1', '02:00:00:00:00:01', '10.0.0.2', 'veth-a'),
      nic('h2', '02:00:00:00:00:02', '10.0.0.3', 'veth-b', true),
      nic('h3', '02:00:00:00:00:03', null, 'veth-c'),
      {
        ...nic('h1', '02:00:00:00:00:04', null, 'tap-vm-1'),
        network_id: 'n2',
        kind: 'tap',
        netns: null,
      },
    ],
  };

  it('renders bridges, local NICs and, per overlay, flood / fdb entries for remote NICs and a neighbour per address', () => {
    expect(renderLinuxSpec(input)).toEqual({
      bridges: [
        { name: 'fcbr0', mtu: 1500, vlan_filtering: true },
        // The agent owns the CIDR's addresses on the bridge: none while the overlay is isolated.
        { name: 'qbr7', mtu: 1450, cidr: '10.0.0.0/24' },
      ],
      taps: [{ name: 'tap-vm-1', bridge: 'fcbr0', mtu: 1500, vlan_id: 10 }],
      veths: [
        {
          name: 'veth-a',
          bridge: 'qbr7',
          mtu: 1450,
          peer: {
            netns: 'ns-veth-a',
            name: 'eth0',
            mac: '02:00:00:00:00:01',
            address: '10.0.0.2/24',
            gateway: '10.0.0.1',
          },
        },
      ],
      vxlans: [
        {
          name: 'vx7',
          vni: 7,
          bridge: 'qbr7',
          local: '192.0.2.1',
          port: 4789,
          mtu: 1450,
          flood: ['192.0.2.2', '192.0.2.3'],
          fdb: [
            { mac: '02:00:00:00:00:02', dst: '192.0.2.2' },
            { mac: '02:00:00:00:00:03', dst: '192.0.2.3' },
          ],
          neigh: [
            { ip: '10.0.0.2', mac: '02:00:00:00:00:01' },
            { ip: '10.0.0.3', mac: '02:00:00:00:00:02', announce: true },
          ],
        },
      ],
      routes: [],
    });
  });

  it("routes a routed overlay's remote guests to their own hosts, and nothing else", () => {
    const routed = { ...overlay, mode: 'routed' as const };
    const spec = renderLinuxSpec({ ...input, networks: [routed, input.networks[1]!] });
    // Its own guest is on its bridge; one without an address needs no route.
    expect(spec.routes).toEqual([{ destination: '10.0.0.3/32', via: '192.0.2.2' }]);
    expect(spec.bridges.find((b) => b.name === 'qbr7')).toMatchObject({
      gateway: '10.0.0.1/24',
      mac: '02:71:6e:00:00:07',
    });
    expect(spec.bridges.find((b) => b.name === 'qbr7')!.nat).toBeUndefined();
    const nat = { ...overlay, mode: 'nat' as const };
    expect(renderLinuxSpec({ ...input, networks: [nat] }).routes).toEqual([]);
  });

  it('leaves out NICs of hosts that are not registered members (no underlay address to send to)', () => {
    const spec = renderLinuxSpec({
      ...input,
      members: new Map([['n1', new Map([['h1', '192.0.2.1']])]]),
    });
    // The host's own NIC is still announced to its own guests.
    expect(spec.vxlans[0]).toMatchObject({
      flood: [],
      fdb: [],
      neigh: [{ ip: '10.0.0.2', mac: '02:00:00:00:00:01' }],
    });
  });

  it("puts a nat or routed bridge network's gateway on its bridge, and owns its CIDR there", () => {
    const bridge = (mode: 'isolated' | 'nat' | 'routed' | 'bridged') =>
      renderLinuxSpec({
        hostId: 'h1',
        underlayIp: '192.0.2.1',
        networks: [
          {
            id: 'n3',
            name: 'guests',
            ...guestServices,
            type: 'bridge',
            mode,
            uplink_interface: mode === 'bridged' ? 'eth1' : null,
            vni: null,
            vlan_id: null,
            bridge_name: 'qbrnat',
            mtu: 1500,
            cidr: '10.60.0.0/24',
            prefix: 24,
            gateway: '10.60.0.1',
          },
        ],
        members: new Map(),
        nics: [],
        dnsDomain: 'qnet.internal',
      }).bridges;
    expect(bridge('nat')).toEqual([
      { name: 'qbrnat', mtu: 1500, cidr: '10.60.0.0/24', gateway: '10.60.0.1/24', nat: true },
    ]);
    expect(bridge('routed')).toEqual([
      { name: 'qbrnat', mtu: 1500, cidr: '10.60.0.0/24', gateway: '10.60.0.1/24' },
    ]);
    // Isolated: no gateway on the bridge, and one left there from another mode is removed.
    expect(bridge('isolated')).toEqual([{ name: 'qbrnat', mtu: 1500, cidr: '10.60.0.0/24' }]);
    // Bridged: the uplink, and the LAN's addresses are not the agent's.
    expect(bridge('bridged')).toEqual([{ name: 'qbrnat', mtu: 1500, uplink: 'eth1' }]);
  });

  it("serves a nat network's guests: static leases for this host's NICs, names for all, port security", () => {
    const spec = renderLinuxSpec({
      hostId: 'h1',
      underlayIp: '192.0.2.1',
      networks: [
        {
          id: 'n4',
          name: 'Web Tier',
          dhcp: true,
          dns_servers: ['192.0.2.53'],
          static_routes: [{ destination: '172.16.0.0/12', nexthop: '10.70.0.254' }],
          type: 'bridge',
          mode: 'nat',
          uplink_interface: null,
          vni: null,
          vlan_id: null,
          bridge_name: 'qbrweb',
          mtu: 1400,
          cidr: '10.70.0.0/24',
          prefix: 24,
          gateway: '10.70.0.1',
        },
      ],
      members: new Map(),
      dnsDomain: 'qnet.internal',
      nics: [
        {
          ...nic('h1', '02:00:00:00:00:0a', '10.70.0.10', 'tap-a'),
          network_id: 'n4',
          kind: 'tap',
          netns: null,
          vm_id: 'VM_1',
          hostname: 'web-1',
          port_security: true,
          allowed_address_pairs: [{ ip_address: '10.70.0.100', mac_address: '02:00:00:00:00:0a' }],
        },
        {
          ...nic('h1', '02:00:00:00:00:0b', '10.70.0.11', 'tap-b'),
          network_id: 'n4',
          kind: 'tap',
          netns: null,
          vm_id: 'VM_2',
        },
      ],
    });
    expect(spec.bridges[0]!.dhcp).toEqual({
      domain: 'web-tier.qnet.internal',
      mtu: 1400,
      dns_servers: ['192.0.2.53'],
      routes: [{ destination: '172.16.0.0/12', gateway: '10.70.0.254' }],
      // VM_2 has no DNS label: a lease, no name.
      leases: [
        { mac: '02:00:00:00:00:0a', ip: '10.70.0.10', name: 'web-1' },
        { mac: '02:00:00:00:00:0b', ip: '10.70.0.11' },
      ],
      names: [{ ip: '10.70.0.10', name: 'web-1' }],
    });
    expect(spec.taps).toEqual([
      {
        name: 'tap-a',
        bridge: 'qbrweb',
        mtu: 1400,
        security: {
          pairs: [
            { mac: '02:00:00:00:00:0a', ip: '10.70.0.10' },
            { mac: '02:00:00:00:00:0a', ip: '10.70.0.100' },
          ],
        },
      },
      { name: 'tap-b', bridge: 'qbrweb', mtu: 1400 },
    ]);
  });

  it("gives an overlay's nat gateway to every member host, with one MAC, serving its own guests", () => {
    const at = (hostId: string, underlayIp: string) =>
      renderLinuxSpec({
        ...input,
        hostId,
        underlayIp,
        networks: [{ ...overlay, mode: 'nat', dhcp: true }],
        nics: input.nics.filter((c) => c.network_id === 'n1'),
      }).bridges[0]!;
    const h1 = at('h1', '192.0.2.1');
    expect(h1).toEqual({
      name: 'qbr7',
      mtu: 1450,
      cidr: '10.0.0.0/24',
      gateway: '10.0.0.1/24',
      mac: '02:71:6e:00:00:07',
      nat: true,
      dhcp: {
        domain: 'overlay.qnet.internal',
        mtu: 1450,
        dns_servers: [],
        routes: [],
        leases: [{ mac: '02:00:00:00:00:01', ip: '10.0.0.2', name: 'vm-veth-a' }],
        names: [
          { ip: '10.0.0.2', name: 'vm-veth-a' },
          { ip: '10.0.0.3', name: 'vm-veth-b' },
        ],
      },
    });
    const h2 = at('h2', '192.0.2.2');
    expect({ ...h2, dhcp: undefined }).toEqual({ ...h1, dhcp: undefined });
    expect(h2.dhcp!.leases).toEqual([
      { mac: '02:00:00:00:00:02', ip: '10.0.0.3', name: 'vm-veth-b' },
    ]);
  });
});
