import type { LinuxSpec } from '@qnet/contracts';
import { argvOf, batched, reconcile } from '../driver.js';
import { DryRunExecutor, type Executor } from '../executor.js';
import { PYTHON } from './announce.js';
import { linuxDriver as linuxDriverWith } from './driver.js';
import {
  OWNED_ALIAS,
  parseFdb,
  parseLinks,
  parseNeigh,
  parseRoutes,
  type LinuxObserved,
} from './observed.js';
import { planLinux } from './plan.js';
import { parseLinuxSpec } from './spec.js';

const linuxDriver = linuxDriverWith({ dnsmasqDir: '/run/qnet/test' });

const empty: LinuxObserved = { links: [], fdb: {}, neigh: {}, dnsmasq: {} };

const overlay = (extra: Partial<LinuxSpec['vxlans'][number]> = {}): LinuxSpec =>
  parseLinuxSpec({
    bridges: [{ name: 'qbr100', mtu: 1450 }],
    vxlans: [
      {
        name: 'vx100',
        vni: 100,
        bridge: 'qbr100',
        local: '192.0.2.1',
        mtu: 1450,
        flood: ['192.0.2.2', '192.0.2.3'],
        fdb: [{ mac: '02:00:00:00:00:02', dst: '192.0.2.2' }],
        neigh: [{ ip: '10.1.0.2', mac: '02:00:00:00:00:02' }],
        ...extra,
      },
    ],
    veths: [
      {
        name: 'veth-a',
        bridge: 'qbr100',
        mtu: 1450,
        peer: { netns: 'vm1', name: 'eth0', mac: '02:00:00:00:00:01', address: '10.1.0.1/24' },
      },
    ],
  });

describe('linux driver: spec validation', () => {
  it('rejects names that are not interface names, before anything runs', () => {
    expect(() => parseLinuxSpec({ bridges: [{ name: 'br0; rm -rf /' }] })).toThrow(
      'bridges[0].name is not a valid interface name',
    );
    expect(() => parseLinuxSpec({ bridges: [{ name: 'a-name-longer-than-15' }] })).toThrow(
      'interface name',
    );
    expect(() => parseLinuxSpec({ bridges: [{ name: 'br0', mtu: 10 }] })).toThrow('mtu');
    expect(() => parseLinuxSpec({ bridges: [{ name: 'br0' }, { name: 'br0' }] })).toThrow(
      'repeats br0',
    );
  });

  it('rejects bad addresses, MACs, namespaces and dangling bridge references', () => {
    const base = { bridges: [{ name: 'b' }] };
    const veth = (peer: object) => ({
      ...base,
      veths: [
        {
          name: 'v',
          bridge: 'b',
          peer: { netns: 'ns', name: 'eth0', mac: '02:00:00:00:00:01', ...peer },
        },
      ],
    });
    expect(() => parseLinuxSpec(veth({ netns: '../etc' }))).toThrow('veths[0].peer.netns');
    expect(() => parseLinuxSpec(veth({ mac: 'nope' }))).toThrow('veths[0].peer.mac');
    expect(() => parseLinuxSpec(veth({ address: '10.0.0.1' }))).toThrow('peer.address');
    expect(() => parseLinuxSpec({ ...base, taps: [{ name: 't', bridge: 'other' }] })).toThrow(
      'taps[0].bridge names bridge other',
    );
    expect(() =>
      parseLinuxSpec({ ...base, vxlans: [{ name: 'x', vni: 0, bridge: 'b', local: '192.0.2.1' }] }),
    ).toThrow('vxlans[0].vni');
    const route = (destination: string, via: unknown) => ({ routes: [{ destination, via }] });
    expect(() => parseLinuxSpec(route('10.0.0.0/24', '192.0.2.2'))).toThrow(
      'routes[0].destination must be one IPv4 address',
    );
    expect(() => parseLinuxSpec(route('10.0.0.5/32', '192.0.2.2 dev x'))).toThrow('routes[0].via');
    expect(parseLinuxSpec({})).toEqual({
      bridges: [],
      taps: [],
      veths: [],
      vxlans: [],
      routes: [],
    });
  });
});

/** Bridges get a random locally administered unicast MAC at creation. */
const LOCAL_MAC = /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/;

describe('linux driver: plan', () => {
  it('builds an overlay from nothing: bridge, VXLAN with ARP suppression, entries, veth into its namespace', () => {
    expect(planLinux(overlay(), empty)).toEqual([
      [
        'ip',
        'link',
        'add',
        'qbr100',
        'address',
        expect.stringMatching(LOCAL_MAC),
        'type',
        'bridge',
      ],
      ['ip', 'link', 'set', 'dev', 'qbr100', 'alias', OWNED_ALIAS],
      ['ip', 'link', 'set', 'dev', 'qbr100', 'mtu', '1450', 'up'],
      [
        'ip',
        'link',
        'add',
        'vx100',
        'type',
        'vxlan',
        'id',
        '100',
        'dstport',
        '4789',
        'local',
        '192.0.2.1',
        'nolearning',
      ],
      ['ip', 'link', 'set', 'dev', 'vx100', 'alias', OWNED_ALIAS],
      ['ip', 'link', 'set', 'dev', 'vx100', 'master', 'qbr100', 'mtu', '1450', 'up'],
      ['bridge', 'link', 'set', 'dev', 'vx100', 'neigh_suppress', 'on', 'learning', 'off'],
      ['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx100', 'dst', '192.0.2.2'],
      ['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx100', 'dst', '192.0.2.3'],
      [
        'bridge',
        'fdb',
        'replace',
        '02:00:00:00:00:02',
        'dev',
        'vx100',
        'dst',
        '192.0.2.2',
        'self',
        'permanent',
      ],
      ['bridge', 'fdb', 'replace', '02:00:00:00:00:02', 'dev', 'vx100', 'master', 'static'],
      [
        'ip',
        'neigh',
        'replace',
        '10.1.0.2',
        'lladdr',
        '02:00:00:00:00:02',
        'dev',
        'qbr100',
        'nud',
        'permanent',
      ],
      [
        'ip',
        'link',
        'add',
        'veth-a',
        'mtu',
        '1450',
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        'vm1',
      ],
      ['ip', 'link', 'set', 'dev', 'veth-a', 'alias', OWNED_ALIAS],
      ['ip', 'link', 'set', 'dev', 'veth-a', 'master', 'qbr100', 'up'],
      [
        'ip',
        '-n',
        'vm1',
        'link',
        'set',
        'dev',
        'eth0',
        'address',
        '02:00:00:00:00:01',
        'mtu',
        '1450',
        'up',
      ],
      ['ip', '-n', 'vm1', 'addr', 'replace', '10.1.0.1/24', 'dev', 'eth0'],
    ]);
  });

  it('announces an address that changed hands (marked, new MAC), and only that one', () => {
    const before = overlay({
      neigh: [
        { ip: '10.1.0.2', mac: '02:00:00:00:00:02' },
        { ip: '10.1.0.3', mac: '02:00:00:00:00:03' },
      ],
    });
    const after = overlay({
      neigh: [
        { ip: '10.1.0.2', mac: '02:00:00:00:00:02', announce: true },
        { ip: '10.1.0.3', mac: '02:00:00:00:00:33', announce: true },
        { ip: '10.1.0.4', mac: '02:00:00:00:00:04' },
      ],
    });
    expect(planLinux(after, linuxDriver.assumeApplied(before))).toEqual([
      [
        'ip',
        'neigh',
        'replace',
        '10.1.0.3',
        'lladdr',
        '02:00:00:00:00:33',
        'dev',
        'qbr100',
        'nud',
        'permanent',
      ],
      [
        'ip',
        'neigh',
        'replace',
        '10.1.0.4',
        'lladdr',
        '02:00:00:00:00:04',
        'dev',
        'qbr100',
        'nud',
        'permanent',
      ],
      {
        argv: [PYTHON, '-I', '-S', '-', 'qbr100', '10.1.0.3', '02:00:00:00:00:33'],
        input: expect.stringContaining('s.send('),
      },
    ]);
  });

  it('plans nothing when the host already matches', () => {
    const spec = overlay();
    expect(planLinux(spec, linuxDriver.assumeApplied(spec))).toEqual([]);
  });

  it('replaces and removes only its own host routes, and only where they differ', () => {
    const spec = parseLinuxSpec({
      routes: [
        { destination: '10.9.0.2/32', via: '192.0.2.12' },
        { destination: '10.9.0.3/32', via: '192.0.2.13' },
      ],
    });
    const observed = {
      ...empty,
      routes: [
        { destination: '10.9.0.2/32', via: '192.0.2.12' },
        { destination: '10.9.0.3/32', via: '192.0.2.99' },
        { destination: '10.9.0.4/32', via: '192.0.2.14' },
      ],
    };
    expect(planLinux(spec, observed)).toEqual([
      ['ip', 'route', 'del', '10.9.0.4/32', 'proto', '113'],
      ['ip', 'route', 'replace', '10.9.0.3/32', 'via', '192.0.2.13', 'proto', '113'],
    ]);
    expect(planLinux(spec, linuxDriver.assumeApplied(spec))).toEqual([]);
    expect(parseRoutes('[{"dst":"10.9.0.2","gateway":"192.0.2.12","protocol":"113"}]')).toEqual([
      { destination: '10.9.0.2/32', via: '192.0.2.12' },
    ]);
  });

  it('plans only the differences when a host joins, another leaves and a NIC moves', () => {
    const before = overlay();
    const after = overlay({
      flood: ['192.0.2.3', '192.0.2.4'],
      fdb: [{ mac: '02:00:00:00:00:02', dst: '192.0.2.4' }],
      neigh: [],
    });
    expect(planLinux(after, linuxDriver.assumeApplied(before))).toEqual([
      ['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx100', 'dst', '192.0.2.4'],
      ['bridge', 'fdb', 'del', '00:00:00:00:00:00', 'dev', 'vx100', 'dst', '192.0.2.2'],
      [
        'bridge',
        'fdb',
        'replace',
        '02:00:00:00:00:02',
        'dev',
        'vx100',
        'dst',
        '192.0.2.4',
        'self',
        'permanent',
      ],
      ['ip', 'neigh', 'del', '10.1.0.2', 'dev', 'qbr100'],
    ]);
  });

  it('removes only what it owns, ports before bridges', () => {
    const observed = linuxDriver.assumeApplied(overlay());
    observed.links.push({ name: 'foreign0', kind: 'bridge', mtu: 1500, up: true, owned: false });
    expect(planLinux(parseLinuxSpec({}), observed)).toEqual([
      ['ip', 'link', 'del', 'dev', 'veth-a'],
      ['ip', 'link', 'del', 'dev', 'vx100'],
      ['ip', 'link', 'del', 'dev', 'qbr100'],
    ]);
  });

  it('renders VLAN access ports on a VLAN-filtering bridge (API 003)', () => {
    const spec = parseLinuxSpec({
      bridges: [{ name: 'fcbr0', vlan_filtering: true }],
      taps: [{ name: 'tap-vm-1', bridge: 'fcbr0', vlan_id: 10 }],
    });
    expect(planLinux(spec, empty)).toEqual([
      [
        'ip',
        'link',
        'add',
        'fcbr0',
        'address',
        expect.stringMatching(LOCAL_MAC),
        'type',
        'bridge',
        'vlan_filtering',
        '1',
      ],
      ['ip', 'link', 'set', 'dev', 'fcbr0', 'alias', OWNED_ALIAS],
      ['ip', 'link', 'set', 'dev', 'fcbr0', 'mtu', '1500', 'up'],
      ['ip', 'tuntap', 'add', 'dev', 'tap-vm-1', 'mode', 'tap'],
      ['ip', 'link', 'set', 'dev', 'tap-vm-1', 'alias', OWNED_ALIAS],
      ['ip', 'link', 'set', 'dev', 'tap-vm-1', 'master', 'fcbr0', 'mtu', '1500', 'up'],
      ['bridge', 'vlan', 'add', 'dev', 'tap-vm-1', 'vid', '10', 'pvid', 'untagged'],
      ['bridge', 'vlan', 'del', 'dev', 'tap-vm-1', 'vid', '1'],
    ]);
  });

  it('re-creates a VXLAN device whose VNI or local address changed', () => {
    const observed = linuxDriver.assumeApplied(overlay());
    const plan = planLinux(overlay({ local: '192.0.2.9' }), observed);
    expect(plan.slice(0, 2)).toEqual([
      ['ip', 'link', 'del', 'dev', 'vx100'],
      [
        'ip',
        'link',
        'add',
        'vx100',
        'type',
        'vxlan',
        'id',
        '100',
        'dstport',
        '4789',
        'local',
        '192.0.2.9',
        'nolearning',
      ],
    ]);
  });
});

describe('linux driver: network modes (gateway on the bridge, NAT)', () => {
  const natSpec = (mode: 'nat' | 'routed' | 'isolated') =>
    parseLinuxSpec({
      bridges: [
        {
          name: 'qbrnat',
          mtu: 1500,
          cidr: '10.60.0.0/24',
          ...(mode === 'isolated' ? {} : { gateway: '10.60.0.1/24' }),
          ...(mode === 'nat' ? { nat: true } : {}),
        },
      ],
    });
  const bridgeWith = (addresses: string[]) => ({
    name: 'qbrnat',
    kind: 'bridge',
    mtu: 1500,
    up: true,
    owned: true,
    vlanFiltering: false,
    addresses,
  });

  it('puts the gateway on the bridge, turns forwarding on and masquerades what leaves the network', () => {
    const cmds = planLinux(natSpec('nat'), { ...empty, ipForward: false });
    const argv = cmds.map(argvOf);
    expect(argv).toContainEqual(['ip', 'addr', 'add', '10.60.0.1/24', 'dev', 'qbrnat']);
    expect(argv).toContainEqual(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    const nft = cmds.find((c) => !Array.isArray(c))!;
    expect(nft).toMatchObject({ argv: ['nft', '-f', '-'] });
    expect((nft as { input: string }).input).toContain(
      'ip saddr 10.60.0.0/24 oifname != "qbrnat" masquerade',
    );
    // Applied: nothing more to do.
    expect(planLinux(natSpec('nat'), linuxDriver.assumeApplied(natSpec('nat')))).toEqual([]);
  });

  it('routed: the gateway without NAT; back to isolated: the gateway goes, foreign addresses stay', () => {
    const applied = linuxDriver.assumeApplied(natSpec('nat'));
    expect(planLinux(natSpec('routed'), applied)).toEqual([
      ['nft', 'delete', 'table', 'ip', 'qnet_nat'],
    ]);
    const observed: LinuxObserved = {
      ...empty,
      links: [bridgeWith(['10.60.0.1/24', '192.168.7.1/24'])],
    };
    expect(planLinux(natSpec('isolated'), observed)).toEqual([
      ['ip', 'addr', 'del', '10.60.0.1/24', 'dev', 'qbrnat'],
    ]);
  });

  it("gives a bridge the distributed gateway's MAC, then re-adds the neighbours the change flushed", () => {
    const spec = overlay();
    const gw = parseLinuxSpec({
      ...spec,
      bridges: [{ ...spec.bridges[0]!, mac: '02:71:6e:00:00:64' }],
    });
    expect(planLinux(gw, empty)[0]).toEqual([
      'ip',
      'link',
      'add',
      'qbr100',
      'address',
      '02:71:6e:00:00:64',
      'type',
      'bridge',
    ]);
    const applied = linuxDriver.assumeApplied(spec);
    applied.links[0]!.mac = '02:aa:bb:cc:dd:ee';
    expect(planLinux(gw, applied)).toEqual([
      ['ip', 'link', 'set', 'dev', 'qbr100', 'address', '02:71:6e:00:00:64'],
      [
        'ip',
        'neigh',
        'replace',
        '10.1.0.2',
        'lladdr',
        '02:00:00:00:00:02',
        'dev',
        'qbr100',
        'nud',
        'permanent',
      ],
    ]);
    expect(planLinux(gw, linuxDriver.assumeApplied(gw))).toEqual([]);
    // Back to isolated: the bridge gives the gateway's MAC back for one of its own.
    const [change, ...rest] = planLinux(spec, linuxDriver.assumeApplied(gw)) as string[][];
    expect(change!.slice(0, 5)).toEqual(['ip', 'link', 'set', 'dev', 'qbr100']);
    expect(change![5]).toBe('address');
    expect(change![6]).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(change![6]).not.toMatch(/^02:71:6e:/);
    expect(rest.map((c) => c.slice(0, 3))).toContainEqual(['ip', 'neigh', 'replace']);
    expect(() => parseLinuxSpec({ bridges: [{ name: 'qbr1', mac: '01:00:5e:00:00:01' }] })).toThrow(
      /mac must be a unicast MAC/,
    );
  });

  it('refuses a gateway outside the CIDR or without its prefix, and NAT without a gateway', () => {
    const bridge = (b: object) => () =>
      parseLinuxSpec({ bridges: [{ name: 'qbrnat', cidr: '10.60.0.0/24', ...b }] });
    expect(bridge({ gateway: '10.61.0.1/24' })).toThrow(/gateway/);
    expect(bridge({ gateway: '10.60.0.1' })).toThrow(/gateway/);
    expect(bridge({ gateway: '10.60.0.1/24\nflush ruleset' })).toThrow(/gateway/);
    expect(bridge({ nat: true })).toThrow(/nat needs a gateway/);
    expect(bridge({ cidr: '10.60.0.0/24; drop' })).toThrow(/cidr/);
  });

  it('reads bridge addresses from ip -j addr', () => {
    const [link] = parseLinks(
      JSON.stringify([
        {
          ifname: 'qbrnat',
          mtu: 1500,
          flags: ['UP'],
          ifalias: OWNED_ALIAS,
          linkinfo: { info_kind: 'bridge', info_data: { vlan_filtering: 0 } },
          addr_info: [
            { family: 'inet', local: '10.60.0.1', prefixlen: 24, scope: 'global' },
            { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
          ],
        },
      ]),
    );
    expect(link!.addresses).toEqual(['10.60.0.1/24']);
  });
});

describe('linux driver: observation parsers', () => {
  it('reads links, fdb and neighbour JSON as ip(8) and bridge(8) print it', () => {
    const links = parseLinks(
      JSON.stringify([
        {
          ifname: 'qbr100',
          mtu: 1450,
          flags: ['UP'],
          ifalias: OWNED_ALIAS,
          linkinfo: { info_kind: 'bridge', info_data: { vlan_filtering: 0 } },
        },
        {
          ifname: 'vx100',
          mtu: 1450,
          flags: ['UP'],
          master: 'qbr100',
          ifalias: OWNED_ALIAS,
          linkinfo: {
            info_kind: 'vxlan',
            info_data: { id: 100, local: '192.0.2.1', port: 4789 },
            info_slave_data: { neigh_suppress: true },
          },
        },
      ]),
    );
    expect(links[1]).toEqual({
      name: 'vx100',
      kind: 'vxlan',
      mtu: 1450,
      up: true,
      owned: true,
      master: 'qbr100',
      neighSuppress: true,
      vxlan: { vni: 100, local: '192.0.2.1', port: 4789 },
    });
    expect(links[0]).toMatchObject({ kind: 'bridge', vlanFiltering: false });
    expect(
      parseFdb(
        '[{"mac":"02:00:00:00:00:05","flags":[],"master":"br9","state":"static"},' +
          '{"mac":"00:00:00:00:00:00","dst":"10.9.0.2","flags":["self"],"state":"permanent"}]',
      ),
    ).toEqual([
      { mac: '02:00:00:00:00:05', self: false, state: 'static' },
      { mac: '00:00:00:00:00:00', dst: '10.9.0.2', self: true, state: 'permanent' },
    ]);
    expect(
      parseNeigh('[{"dst":"10.50.0.5","lladdr":"02:00:00:00:00:05","state":["PERMANENT"]}]'),
    ).toEqual([{ ip: '10.50.0.5', mac: '02:00:00:00:00:05' }]);
    expect(parseLinks('')).toEqual([]);
  });
});

describe('linux driver: execution', () => {
  it('records instead of executing in dry-run, and converges', async () => {
    const exec = new DryRunExecutor();
    const first = await reconcile(linuxDriver, exec, overlay(), undefined);
    expect(first.changes).toHaveLength(17);
    const second = await reconcile(linuxDriver, exec, overlay(), overlay());
    expect(second.changes).toEqual([]);
    expect(exec.recorded).toEqual(first.changes);
  });

  it("runs consecutive ip / bridge commands for one namespace as one batch on a real executor (the host's own: even one)", () => {
    const real = { mode: 'real' } as Executor;
    expect(
      batched(real, [
        ['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx1', 'dst', '192.0.2.2'],
        ['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx1', 'dst', '192.0.2.3'],
        ['ip', '-n', 'vm1', 'addr', 'replace', '10.0.0.1/24', 'dev', 'eth0'],
        ['ip', '-n', 'vm1', 'route', 'replace', 'default', 'via', '10.0.0.254'],
        ['ip', '-n', 'vm2', 'addr', 'replace', '10.0.0.2/24', 'dev', 'eth0'],
        ['ip', '-6', 'route', 'show'],
        ['ip', 'link', 'set', 'br', 'up'],
        ['nft', '-f', '-'],
        ['ip', 'neigh', 'del', '10.0.0.2', 'dev', 'br'],
        ['ip', 'neigh', 'del', '10.0.0.3', 'dev', 'br'],
      ]),
    ).toEqual([
      {
        argv: ['bridge', '-batch', '-'],
        input:
          'fdb append 00:00:00:00:00:00 dev vx1 dst 192.0.2.2\nfdb append 00:00:00:00:00:00 dev vx1 dst 192.0.2.3\n',
      },
      {
        argv: ['ip', '-n', 'vm1', '-batch', '-'],
        input: 'addr replace 10.0.0.1/24 dev eth0\nroute replace default via 10.0.0.254\n',
      },
      { argv: ['ip', '-n', 'vm2', 'addr', 'replace', '10.0.0.2/24', 'dev', 'eth0'] },
      { argv: ['ip', '-6', 'route', 'show'] },
      { argv: ['ip', '-batch', '-'], input: 'link set br up\n' },
      { argv: ['nft', '-f', '-'] },
      {
        argv: ['ip', '-batch', '-'],
        input: 'neigh del 10.0.0.2 dev br\nneigh del 10.0.0.3 dev br\n',
      },
    ]);
  });
});
