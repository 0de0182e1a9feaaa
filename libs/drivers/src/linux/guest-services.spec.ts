import type { LinuxSpec } from '@qnet/contracts';
import { argvOf } from '../driver.js';
import type { Executor } from '../executor.js';
import { linuxDriver } from './driver.js';
import { parseLeases, planDnsmasq, renderDnsmasq, type ObservedDnsmasq } from './dnsmasq.js';
import {
  parsePortDrops,
  portsCounters,
  portsTableBody,
  portsTableUpdate,
} from './port-security.js';
import { planLinux } from './plan.js';
import { fingerprintOf } from '../nft.js';
import { parseLinuxSpec } from './spec.js';

const DIR = '/run/qnet/h1/dnsmasq';

const spec = (leases = [{ mac: '02:00:00:00:00:0a', ip: '10.70.0.10', name: 'web-1' }]) =>
  parseLinuxSpec({
    bridges: [
      {
        name: 'qbrweb',
        mtu: 1400,
        cidr: '10.70.0.0/24',
        gateway: '10.70.0.1/24',
        nat: true,
        dhcp: {
          domain: 'web.qnet.internal',
          mtu: 1400,
          dns_servers: ['192.0.2.53'],
          routes: [{ destination: '172.16.0.0/12', gateway: '10.70.0.254' }],
          leases,
          names: leases.map((l) => ({ ip: l.ip, name: l.name })),
        },
      },
    ],
    taps: [
      {
        name: 'tap-a',
        bridge: 'qbrweb',
        mtu: 1400,
        security: { pairs: [{ mac: '02:00:00:00:00:0a', ip: '10.70.0.10' }] },
      },
    ],
  });

const running = (s: LinuxSpec, extra: Partial<ObservedDnsmasq> = {}): ObservedDnsmasq => ({
  files: renderDnsmasq(DIR, { ...s.bridges[0]!, dhcp: s.bridges[0]!.dhcp! }),
  leases: [],
  pid: 4242,
  ...extra,
});

describe('guest DHCP/DNS (dnsmasq) and port security', () => {
  it('renders a static-only dnsmasq bound to the bridge, answering from the gateway', () => {
    const files = renderDnsmasq(DIR, { ...spec().bridges[0]!, dhcp: spec().bridges[0]!.dhcp! });
    expect(files.conf).toContain('interface=qbrweb\n');
    expect(files.conf).toContain('dhcp-range=10.70.0.0,static,255.255.255.0,1h\n');
    expect(files.conf).toContain('dhcp-option=option:router,10.70.0.1\n');
    expect(files.conf).toContain('dhcp-option=option:mtu,1400\n');
    expect(files.conf).toContain('server=192.0.2.53\n');
    expect(files.conf).toContain('dhcp-ignore-names\n');
    expect(files.conf).toContain(
      'dhcp-option=option:classless-static-route,0.0.0.0/0,10.70.0.1,172.16.0.0/12,10.70.0.254\n',
    );
    expect(files.hosts).toBe('02:00:00:00:00:0a,10.70.0.10,web-1\n');
    expect(files.names).toBe('10.70.0.10 web-1\n');
  });

  it('refuses what could become a second config line or an address outside the network', () => {
    const bad = (patch: object) => () =>
      parseLinuxSpec({
        bridges: [
          {
            name: 'b',
            cidr: '10.70.0.0/24',
            gateway: '10.70.0.1/24',
            dhcp: { domain: 'x.internal', mtu: 1500, ...patch },
          },
        ],
      });
    expect(bad({ domain: 'x\nserver=6.6.6.6' })).toThrow(/domain/);
    expect(bad({ leases: [{ mac: '02:00:00:00:00:01', ip: '10.70.0.5', name: 'a b' }] })).toThrow(
      /name/,
    );
    expect(bad({ leases: [{ mac: '02:00:00:00:00:01', ip: '10.99.0.5' }] })).toThrow(/ip/);
    expect(bad({ dns_servers: ['8.8.8.8,9.9.9.9'] })).toThrow(/dns_servers/);
    expect(() =>
      parseLinuxSpec({
        bridges: [{ name: 'b', dhcp: { domain: 'x.internal', mtu: 1500 } }],
      }),
    ).toThrow(/needs cidr and gateway/);
  });

  it('starts a missing dnsmasq, HUPs a live one for a new lease, restarts it for a new config', () => {
    const s = spec();
    expect(planDnsmasq(DIR, s.bridges, {}).map(argvOf)).toEqual([
      ['write', `${DIR}/qbrweb/dnsmasq.conf`],
      ['write', `${DIR}/qbrweb/dhcp-hosts`],
      ['write', `${DIR}/qbrweb/dns-names`],
      ['dnsmasq', `--conf-file=${DIR}/qbrweb/dnsmasq.conf`],
    ]);
    expect(planDnsmasq(DIR, s.bridges, { qbrweb: running(s) })).toEqual([]);
    const more = spec([
      { mac: '02:00:00:00:00:0a', ip: '10.70.0.10', name: 'web-1' },
      { mac: '02:00:00:00:00:0b', ip: '10.70.0.11', name: 'web-2' },
    ]);
    expect(planDnsmasq(DIR, more.bridges, { qbrweb: running(s) }).map(argvOf)).toEqual([
      ['write', `${DIR}/qbrweb/dhcp-hosts`],
      ['write', `${DIR}/qbrweb/dns-names`],
      ['kill', '-HUP', '4242'],
    ]);
    const other = { ...s.bridges[0]!, dhcp: { ...s.bridges[0]!.dhcp!, mtu: 1300 } };
    expect(planDnsmasq(DIR, [other], { qbrweb: running(s) }).map(argvOf)).toEqual([
      ['write', `${DIR}/qbrweb/dnsmasq.conf`],
      ['kill', '-TERM', '4242'],
      ['timeout', '5', 'tail', '--pid=4242', '-f', '/dev/null'],
      ['dnsmasq', `--conf-file=${DIR}/qbrweb/dnsmasq.conf`],
    ]);
    // DHCP no longer wanted on the bridge: stopped and its files removed.
    expect(planDnsmasq(DIR, [], { qbrweb: running(s) }).map(argvOf)).toEqual([
      ['kill', '-TERM', '4242'],
      ['timeout', '5', 'tail', '--pid=4242', '-f', '/dev/null'],
      ['rm', '-rf', `${DIR}/qbrweb`],
    ]);
  });

  it("releases a detached NIC's lease, so its name and address are free at once", () => {
    const s = spec([]);
    const leases = parseLeases(
      '1767225600 02:00:00:00:00:0a 10.70.0.10 web-1 01:02:00:00:00:00:0a\ngarbage line\n',
    );
    expect(leases).toEqual([
      {
        mac: '02:00:00:00:00:0a',
        ip: '10.70.0.10',
        line: '1767225600 02:00:00:00:00:0a 10.70.0.10 web-1 01:02:00:00:00:00:0a',
      },
    ]);
    const live = running(spec(), { leases });
    expect(planDnsmasq(DIR, s.bridges, { qbrweb: live }).map(argvOf)).toEqual([
      ['dhcp_release', 'qbrweb', '10.70.0.10', '02:00:00:00:00:0a'],
      ['write', `${DIR}/qbrweb/dhcp-hosts`],
      ['write', `${DIR}/qbrweb/dns-names`],
      ['kill', '-HUP', '4242'],
    ]);
    // Not running: the lease file is rewritten without it before dnsmasq starts.
    const stopped = { ...live, pid: undefined };
    const plan = planDnsmasq(DIR, s.bridges, { qbrweb: stopped });
    expect(plan[0]).toEqual({ write: `${DIR}/qbrweb/leases`, content: '', mode: 0o644 });
  });

  it('holds a guest port to its MAC and address pairs, keeps counts across a table rewrite', () => {
    const s = spec();
    const body = portsTableBody(s);
    const setOf = (name: string) => body.slice(body.indexOf(` ${name} {`)).split('\n  }\n')[0]!;
    expect(body).toContain('iifname @guest_ports jump guest');
    expect(setOf('guest_ports')).toContain('elements = { "tap-a" }');
    expect(setOf('port_macs')).toContain('elements = { "tap-a" . 02:00:00:00:00:0a }');
    expect(setOf('port_addrs')).toContain(
      'elements = { "tap-a" . 02:00:00:00:00:0a . 10.70.0.10 }',
    );
    expect(setOf('port_drops')).toContain('elements = { "tap-a" : "drops_7461702d61" }');
    expect(body).toContain(
      'iifname . ether saddr != @port_macs counter name iifname map @port_drops drop',
    );
    expect(body).toContain(
      'ether type ip iifname . ether saddr . ip saddr != @port_addrs counter name iifname map @port_drops drop',
    );
    expect(body).toContain('ether type ip udp sport 67 counter name iifname map @port_drops drop');
    // IPv6 only from the MAC's link-local address (or ::), which is also the only target a
    // neighbour advertisement may claim.
    expect(setOf('port_lladdrs')).toContain('elements = { "tap-a" . fe80::ff:fe00:a }');
    expect(setOf('port_nd_targets')).toContain(
      'elements = { "tap-a" . 0xfe80000000000000000000fffe00000a }',
    );
    expect(body).toContain(
      'ether type ip6 ip6 saddr != :: iifname . ip6 saddr != @port_lladdrs counter name iifname map @port_drops drop',
    );
    expect(body).toContain(
      'icmpv6 type nd-neighbor-advert iifname . @th,64,128 != @port_nd_targets counter name iifname map @port_drops drop',
    );
    // An allowed CIDR covering the NIC's own address replaces it (an interval set refuses the
    // overlap); another MAC's pair stays.
    const pairs = [
      { mac: '02:00:00:00:00:0a', ip: '10.70.0.10' },
      { mac: '02:00:00:00:00:0a', ip: '10.70.0.0/28' },
      { mac: '02:00:00:00:00:0b', ip: '10.70.0.10' },
    ];
    const wide = portsTableBody({ ...s, taps: [{ ...s.taps[0]!, security: { pairs } }] });
    expect(wide).toContain(
      'elements = { "tap-a" . 02:00:00:00:00:0a . 10.70.0.0/28, "tap-a" . 02:00:00:00:00:0b . 10.70.0.10 }',
    );
    expect(portsCounters(s, { 'tap-a': { packets: 7, bytes: 420 } })).toBe(
      '  counter drops_7461702d61 { packets 7 bytes 420 }\n',
    );
    expect(parsePortDrops('counter drops_7461702d61 {\n\t\tpackets 7 bytes 420\n\t}\n')).toEqual({
      'tap-a': { packets: 7, bytes: 420 },
    });
    // Without port security and without DHCP: no table at all.
    expect(portsTableBody({ ...s, taps: [{ ...s.taps[0]!, security: undefined }] })).toBe('');
  });

  it('adds and removes a port as elements of the table it holds, and replaces it for anything else', () => {
    const one = spec();
    const b = {
      name: 'tap-b',
      bridge: 'qbrweb',
      mtu: 1400,
      security: { pairs: [{ mac: '02:00:00:00:00:0b', ip: '10.70.0.11' }] },
    };
    const two: LinuxSpec = { ...one, taps: [...one.taps, b] };
    const ref = 'bridge qnet_ports';
    expect(portsTableUpdate(two, one)).toEqual([
      `add counter ${ref} drops_7461702d62`,
      `add element ${ref} guest_ports { "tap-b" }`,
      `add element ${ref} addressed_ports { "tap-b" }`,
      `add element ${ref} port_macs { "tap-b" . 02:00:00:00:00:0b }`,
      `add element ${ref} port_addrs { "tap-b" . 02:00:00:00:00:0b . 10.70.0.11 }`,
      `add element ${ref} port_lladdrs { "tap-b" . fe80::ff:fe00:b }`,
      `add element ${ref} port_nd_targets { "tap-b" . 0xfe80000000000000000000fffe00000b }`,
      `add element ${ref} port_drops { "tap-b" : "drops_7461702d62" }`,
    ]);
    // Removed: the map entry before the counter it names.
    expect(portsTableUpdate(one, two)).toEqual([
      `delete element ${ref} port_drops { "tap-b" }`,
      `delete element ${ref} guest_ports { "tap-b" }`,
      `delete element ${ref} addressed_ports { "tap-b" }`,
      `delete element ${ref} port_macs { "tap-b" . 02:00:00:00:00:0b }`,
      `delete element ${ref} port_addrs { "tap-b" . 02:00:00:00:00:0b . 10.70.0.11 }`,
      `delete element ${ref} port_lladdrs { "tap-b" . fe80::ff:fe00:b }`,
      `delete element ${ref} port_nd_targets { "tap-b" . 0xfe80000000000000000000fffe00000b }`,
      `delete counter ${ref} drops_7461702d62`,
    ]);
    // The last port gone, or another chain: the table is replaced.
    expect(portsTableUpdate({ ...one, taps: [] }, one)).toBeUndefined();
    const overlay = { ...two, vxlans: [] as LinuxSpec['vxlans'] };
    overlay.vxlans = [
      {
        name: 'vx7',
        vni: 7,
        bridge: 'qbrweb',
        local: '192.0.2.1',
        port: 4789,
        mtu: 1400,
        flood: [],
        fdb: [],
        neigh: [],
      },
    ];
    expect(portsTableUpdate(overlay, one)).toBeUndefined();
    // The planner takes the update only for the table the host holds (the fingerprint matched).
    const held = {
      links: [],
      fdb: {},
      neigh: {},
      dnsmasq: {},
      ports: fingerprintOf(portsTableBody(one)),
      portDrops: {},
    };
    const scripts = (observed: object) =>
      planLinux(two, { ...held, ...observed }, DIR).flatMap((c) =>
        'input' in c && c.input?.includes('qnet_ports') ? [c.input] : [],
      );
    const [update] = scripts({ portsHeld: one });
    expect(update).toContain('add element bridge qnet_ports guest_ports { "tap-b" }');
    expect(update).toContain(
      `add chain bridge qnet_ports fingerprint { comment "qnet:${fingerprintOf(portsTableBody(two))}" ; }`,
    );
    const [replace] = scripts({});
    expect(replace).toContain('delete table bridge qnet_ports');
  });

  it('plans a pushed attach against the last apply: the new port only, with nothing read', async () => {
    const reads: string[][] = [];
    const exec: Executor = {
      mode: 'real',
      read: async (argv) => {
        reads.push([...argv]);
        return { stdout: 'counter drops_7461702d61 { packets 3 bytes 180 }', stderr: '' };
      },
      run: async () => ({ stdout: '', stderr: '' }),
    };
    const driver = linuxDriver({ dnsmasqDir: DIR });
    const one = spec();
    const tapB = { ...one.taps[0]!, name: 'tap-b', security: { pairs: [] } };
    const two: LinuxSpec = { ...one, taps: [...one.taps, tapB] };
    const plan = driver.plan(two, await driver.observeSince!(exec, two, one)).map(argvOf);
    expect(reads).toEqual([]);
    expect(plan.filter((c) => c[0] !== 'write' && c[0] !== 'dnsmasq')).toEqual([
      ['ip', 'tuntap', 'add', 'dev', 'tap-b', 'mode', 'tap'],
      ['ip', 'link', 'set', 'dev', 'tap-b', 'alias', 'qnet-managed'],
      ['ip', 'link', 'set', 'dev', 'tap-b', 'master', 'qbrweb', 'mtu', '1400', 'up'],
      ['nft', '-f', '-'],
    ]);
    const inputs = (changes: ReturnType<typeof driver.plan>) =>
      changes.flatMap((c) => ('input' in c && c.input ? [c.input] : [])).join('');
    expect(inputs(driver.plan(two, await driver.observeSince!(exec, two, one)))).toContain(
      'add element bridge qnet_ports guest_ports { "tap-b" }',
    );
    // A change of the table's shape rewrites it: the counts are read first, and kept.
    const overlay: LinuxSpec = { ...one, bridges: [{ ...one.bridges[0]!, nat: false }] };
    overlay.vxlans = [
      { name: 'vx7', vni: 7, bridge: 'qbrweb', local: '192.0.2.1', port: 4789, mtu: 1400 },
    ].map((x) => ({ ...x, flood: [], fdb: [], neigh: [] }));
    const rewrite = driver.plan(overlay, await driver.observeSince!(exec, overlay, one));
    expect(reads).toEqual([['nft', '-t', 'list', 'table', 'bridge', 'qnet_ports']]);
    expect(inputs(rewrite)).toContain('counter drops_7461702d61 { packets 3 bytes 180 }');
  });

  it("keeps an overlay's DHCP and its distributed gateway off the underlay, both ways", () => {
    const s = spec();
    const gw = { ...s.bridges[0]!, mac: '02:71:6e:00:00:07' };
    const vx = {
      name: 'vx7',
      vni: 7,
      bridge: 'qbrweb',
      local: '192.0.2.1',
      port: 4789,
      mtu: 1400,
      flood: ['192.0.2.2'],
      fdb: [],
      neigh: [],
    };
    const body = portsTableBody({ ...s, bridges: [gw], vxlans: [vx] });
    const chainOf = (name: string) =>
      body.slice(body.indexOf(`chain ${name} {`)).split('\n  }\n')[0]!;
    expect(chainOf('prerouting')).toContain(
      'iifname "vx7" ether type ip udp dport { 67, 68 } drop',
    );
    expect(chainOf('prerouting')).toContain('iifname "vx7" ether saddr 02:71:6e:00:00:07 drop');
    expect(chainOf('forward')).toContain('oifname "vx7" ether type ip udp dport { 67, 68 } drop');
    expect(chainOf('forward')).toContain(
      'oifname "vx7" ether type arp arp daddr ip 10.70.0.1 drop',
    );
    expect(chainOf('output')).toContain('oifname "vx7" ether type ip udp dport { 67, 68 } drop');
    expect(chainOf('output')).toContain('oifname "vx7" ether saddr 02:71:6e:00:00:07 drop');
    // An isolated overlay (no gateway, no DHCP) filters nothing.
    const plain = { name: 'qbrweb', mtu: 1400, vlan_filtering: false };
    expect(
      portsTableBody({ bridges: [plain], taps: [], veths: [], vxlans: [vx], routes: [] }),
    ).toBe('');
  });
});
