import {
  GATEWAY_MAC_PREFIX,
  HOST_ROUTE_PROTO,
  type LinuxBridge,
  type LinuxRoute,
  type LinuxSpec,
  type LinuxTap,
  type LinuxVeth,
  type LinuxVxlan,
} from '@qnet/contracts';
import { cidrContainsIp, parseCidr, randomLocalMac } from '@qnet/netaddr';
import type { Change, StdinCommand } from '../driver.js';
import { fingerprintOf, planTable, planTableUpdate, type OwnedTable } from '../nft.js';
import { announceCommand } from './announce.js';
import { planDnsmasq } from './dnsmasq.js';
import { PORTS_TABLE, portsCounters, portsTableBody, portsTableUpdate } from './port-security.js';
import { OWNED_ALIAS, type LinuxObserved, type ObservedLink } from './observed.js';

const ZERO_MAC = '00:00:00:00:00:00';

/** Brings an existing port to its desired bridge, MTU and up state; nothing when it is already there. */
function fixPort(cur: ObservedLink, bridge: string, mtu: number): string[][] {
  return cur.master !== bridge || cur.mtu !== mtu || !cur.up
    ? [['ip', 'link', 'set', 'dev', cur.name, 'master', bridge, 'mtu', String(mtu), 'up']]
    : [];
}

function own(name: string): string[] {
  return ['ip', 'link', 'set', 'dev', name, 'alias', OWNED_ALIAS];
}

function accessVlan(dev: string, vlan: number | undefined): string[][] {
  return vlan === undefined
    ? []
    : [
        ['bridge', 'vlan', 'add', 'dev', dev, 'vid', String(vlan), 'pvid', 'untagged'],
        ['bridge', 'vlan', 'del', 'dev', dev, 'vid', '1'],
      ];
}

/**
 * An existing bridge whose MAC changes: it takes a fixed one (it became a distributed gateway's),
 * or gives the gateway's back (its overlay stopped being nat) — every member host would otherwise
 * keep one MAC, and one IPv6 link-local address, on a segment that no longer filters them.
 */
const macChanges = (b: LinuxBridge, cur: ObservedLink | undefined) =>
  cur?.kind === 'bridge' &&
  cur.mac !== undefined &&
  (b.mac !== undefined ? cur.mac !== b.mac : cur.mac.startsWith(`${GATEWAY_MAC_PREFIX}:`));

function planBridge(
  b: LinuxBridge,
  cur: ObservedLink | undefined,
  links: Map<string, ObservedLink>,
) {
  const cmds: string[][] = [];
  if (!cur || cur.kind !== 'bridge') {
    // A bridge's automatic MAC follows its lowest port MAC, and a MAC change flushes every
    // neighbour entry on the bridge, permanent ones included (neigh_changeaddr): the overlay's ARP
    // suppression would fail until the next resync. A MAC set once at creation never changes.
    cmds.push([
      'ip',
      'link',
      'add',
      b.name,
      'address',
      b.mac ?? randomLocalMac(),
      'type',
      'bridge',
      ...(b.vlan_filtering ? ['vlan_filtering', '1'] : []),
    ]);
    cmds.push(own(b.name));
    cmds.push(['ip', 'link', 'set', 'dev', b.name, 'mtu', String(b.mtu), 'up']);
  } else {
    // A bridge of that name that we did not create is adopted (marked), as the seed's
    // pre-existing fcbr0 would be; it is never deleted because of that.
    if (!cur.owned) cmds.push(own(b.name));
    if (Boolean(cur.vlanFiltering) !== Boolean(b.vlan_filtering))
      cmds.push([
        'ip',
        'link',
        'set',
        'dev',
        b.name,
        'type',
        'bridge',
        'vlan_filtering',
        b.vlan_filtering ? '1' : '0',
      ]);
    if (cur.mtu !== b.mtu || !cur.up)
      cmds.push(['ip', 'link', 'set', 'dev', b.name, 'mtu', String(b.mtu), 'up']);
    if (macChanges(b, cur))
      cmds.push(['ip', 'link', 'set', 'dev', b.name, 'address', b.mac ?? randomLocalMac()]);
  }
  if (b.uplink && links.get(b.uplink)?.master !== b.name)
    cmds.push(['ip', 'link', 'set', 'dev', b.uplink, 'master', b.name, 'up']);
  return cmds;
}

/**
 * The addresses of a bridge network's CIDR on its bridge: the gateway (nat, routed), nothing else.
 * Addresses outside the CIDR are someone else's and stay.
 */
function planBridgeL3(b: LinuxBridge, cur: ObservedLink | undefined): string[][] {
  if (!b.cidr) return [];
  const net = parseCidr(b.cidr);
  const have = cur?.addresses ?? [];
  const stale = have.filter((a) => a !== b.gateway && cidrContainsIp(net, a.split('/')[0]!));
  return [
    ...stale.map((a) => ['ip', 'addr', 'del', a, 'dev', b.name]),
    ...(b.gateway && !have.includes(b.gateway)
      ? [['ip', 'addr', 'add', b.gateway, 'dev', b.name]]
      : []),
  ];
}

/** The agent's host routes: only those it marked (its protocol number) are replaced or removed. */
function planRoutes(wanted: LinuxRoute[], held: LinuxRoute[]): string[][] {
  const proto = ['proto', String(HOST_ROUTE_PROTO)];
  const have = new Map(held.map((r) => [r.destination, r.via]));
  const want = new Set(wanted.map((r) => r.destination));
  return [
    ...[...have.keys()].filter((d) => !want.has(d)).map((d) => ['ip', 'route', 'del', d, ...proto]),
    ...wanted
      .filter((r) => have.get(r.destination) !== r.via)
      .map((r) => ['ip', 'route', 'replace', r.destination, 'via', r.via, ...proto]),
  ];
}

/** Where an agent keeps its DHCP servers' files unless told otherwise (AGENT_RUN_DIR). */
export const DEFAULT_DNSMASQ_DIR = '/run/qnet/dnsmasq';

/** The agent's own NAT table: one masquerade rule per nat network, for what leaves its bridge. */
export const NAT_TABLE: OwnedTable = { family: 'ip', name: 'qnet_nat' };

export function natTableBody(spec: LinuxSpec): string {
  const rules = spec.bridges
    .filter((b) => b.nat && b.cidr)
    .map((b) => `    ip saddr ${b.cidr} oifname != "${b.name}" masquerade\n`);
  if (!rules.length) return '';
  return `  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n${rules.join('')}  }\n`;
}

function planTap(t: LinuxTap, cur: ObservedLink | undefined): string[][] {
  if (cur?.owned && cur.kind === 'tun') return fixPort(cur, t.bridge, t.mtu);
  return [
    ...(cur?.owned ? [['ip', 'link', 'del', 'dev', t.name]] : []),
    ['ip', 'tuntap', 'add', 'dev', t.name, 'mode', 'tap'],
    own(t.name),
    ['ip', 'link', 'set', 'dev', t.name, 'master', t.bridge, 'mtu', String(t.mtu), 'up'],
    ...accessVlan(t.name, t.vlan_id),
  ];
}

/** The peer is created directly inside the container's namespace and configured there. */
function planVeth(v: LinuxVeth, cur: ObservedLink | undefined): string[][] {
  if (cur?.owned && cur.kind === 'veth') return fixPort(cur, v.bridge, v.mtu);
  const p = v.peer;
  const inPeer = (...args: string[]) => ['ip', '-n', p.netns, ...args];
  return [
    ...(cur?.owned ? [['ip', 'link', 'del', 'dev', v.name]] : []),
    [
      'ip',
      'link',
      'add',
      v.name,
      'mtu',
      String(v.mtu),
      'type',
      'veth',
      'peer',
      'name',
      p.name,
      'netns',
      p.netns,
    ],
    own(v.name),
    ['ip', 'link', 'set', 'dev', v.name, 'master', v.bridge, 'up'],
    ...accessVlan(v.name, v.vlan_id),
    inPeer('link', 'set', 'dev', p.name, 'address', p.mac, 'mtu', String(v.mtu), 'up'),
    ...(p.address ? [inPeer('addr', 'replace', p.address, 'dev', p.name)] : []),
    ...(p.gateway ? [inPeer('route', 'replace', 'default', 'via', p.gateway, 'dev', p.name)] : []),
  ];
}

function planVxlanDevice(x: LinuxVxlan, cur: ObservedLink | undefined): string[][] {
  const same =
    cur?.owned &&
    cur.kind === 'vxlan' &&
    cur.vxlan?.vni === x.vni &&
    cur.vxlan.local === x.local &&
    cur.vxlan.port === x.port;
  if (same) {
    return [
      ...fixPort(cur, x.bridge, x.mtu),
      ...(cur.neighSuppress
        ? []
        : [['bridge', 'link', 'set', 'dev', x.name, 'neigh_suppress', 'on', 'learning', 'off']]),
    ];
  }
  return [
    ...(cur?.owned ? [['ip', 'link', 'del', 'dev', x.name]] : []),
    [
      'ip',
      'link',
      'add',
      x.name,
      'type',
      'vxlan',
      'id',
      String(x.vni),
      'dstport',
      String(x.port),
      'local',
      x.local,
      'nolearning',
    ],
    own(x.name),
    ['ip', 'link', 'set', 'dev', x.name, 'master', x.bridge, 'mtu', String(x.mtu), 'up'],
    ['bridge', 'link', 'set', 'dev', x.name, 'neigh_suppress', 'on', 'learning', 'off'],
  ];
}

/**
 * Forwarding state of one overlay on this host: flood list, remote MACs in the VXLAN device
 * (dst = their host) and in the bridge (so the bridge knows the port), and a neighbour entry per
 * address of the overlay, which the bridge answers ARP from (remote ones); an entry added or
 * changed for an address the registry marks as re-used is announced. Only differences are planned.
 */
function planVxlanEntries(
  x: LinuxVxlan,
  observed: LinuxObserved,
  fresh: boolean,
  neighFlushed: boolean,
): { cmds: string[][]; announce?: StdinCommand } {
  const fdb = fresh ? [] : (observed.fdb[x.name] ?? []);
  // Neighbour entries live on the bridge and survive a re-created VXLAN device, but not a change
  // of the bridge's MAC.
  const neigh = neighFlushed ? [] : (observed.neigh[x.bridge] ?? []);
  const cmds: string[][] = [];
  const dev = ['dev', x.name];

  const floods = new Set(fdb.filter((e) => e.self && e.mac === ZERO_MAC).map((e) => e.dst));
  for (const dst of x.flood)
    if (!floods.has(dst)) cmds.push(['bridge', 'fdb', 'append', ZERO_MAC, ...dev, 'dst', dst]);
  for (const dst of floods)
    if (dst && !x.flood.includes(dst))
      cmds.push(['bridge', 'fdb', 'del', ZERO_MAC, ...dev, 'dst', dst]);

  const remote = new Map(
    fdb.filter((e) => e.self && e.mac !== ZERO_MAC).map((e) => [e.mac, e.dst]),
  );
  const inBridge = new Set(fdb.filter((e) => !e.self && e.state === 'static').map((e) => e.mac));
  const wanted = new Map(x.fdb.map((e) => [e.mac, e.dst]));
  for (const { mac, dst } of x.fdb) {
    if (remote.get(mac) !== dst)
      cmds.push(['bridge', 'fdb', 'replace', mac, ...dev, 'dst', dst, 'self', 'permanent']);
    if (!inBridge.has(mac))
      cmds.push(['bridge', 'fdb', 'replace', mac, ...dev, 'master', 'static']);
  }
  for (const [mac, dst] of remote)
    if (!wanted.has(mac))
      cmds.push(['bridge', 'fdb', 'del', mac, ...dev, ...(dst ? ['dst', dst] : []), 'self']);
  for (const mac of inBridge)
    if (!wanted.has(mac)) cmds.push(['bridge', 'fdb', 'del', mac, ...dev, 'master']);

  const have = new Map(neigh.map((n) => [n.ip, n.mac]));
  const want = new Set(x.neigh.map((n) => n.ip));
  const changed = x.neigh.filter((n) => have.get(n.ip) !== n.mac);
  for (const n of changed)
    cmds.push([
      'ip',
      'neigh',
      'replace',
      n.ip,
      'lladdr',
      n.mac,
      'dev',
      x.bridge,
      'nud',
      'permanent',
    ]);
  for (const ip of have.keys())
    if (!want.has(ip)) cmds.push(['ip', 'neigh', 'del', ip, 'dev', x.bridge]);
  // An address that changed hands is announced to the guests behind this bridge.
  return {
    cmds,
    announce: announceCommand(
      x.bridge,
      changed.filter((n) => n.announce),
    ),
  };
}

/**
 * desired + observed → the commands that make the host match, in a safe order: ports that are no
 * longer wanted go first (freeing names and VNIs), then bridges, overlay devices, NICs and
 * forwarding entries, and unwanted bridges last. Only devices marked as ours are ever removed.
 */
/** Veths whose container namespace does not exist: left out of the plan, reported per device. */
export function missingNamespaces(
  desired: LinuxSpec,
  observed: LinuxObserved,
): Record<string, string> {
  if (!observed.namespaces) return {};
  const present = new Set(observed.namespaces);
  return Object.fromEntries(
    desired.veths
      .filter((v) => !present.has(v.peer.netns))
      .map((v) => [v.name, `network namespace "${v.peer.netns}" does not exist on this host`]),
  );
}

export function planLinux(
  desired: LinuxSpec,
  observed: LinuxObserved,
  dnsmasqDir = DEFAULT_DNSMASQ_DIR,
): Change[] {
  const missing = missingNamespaces(desired, observed);
  if (Object.keys(missing).length)
    desired = { ...desired, veths: desired.veths.filter((v) => !(v.name in missing)) };
  const links = new Map(observed.links.map((l) => [l.name, l]));
  const wantedPorts = new Set(
    [...desired.taps, ...desired.veths, ...desired.vxlans].map((d) => d.name),
  );
  const wantedBridges = new Set(desired.bridges.map((b) => b.name));
  const cmds: string[][] = [];
  const announcements: StdinCommand[] = [];

  for (const l of observed.links)
    if (l.owned && l.kind !== 'bridge' && !wantedPorts.has(l.name) && !wantedBridges.has(l.name))
      cmds.push(['ip', 'link', 'del', 'dev', l.name]);
  for (const b of desired.bridges)
    cmds.push(...planBridge(b, links.get(b.name), links), ...planBridgeL3(b, links.get(b.name)));
  for (const x of desired.vxlans) {
    const device = planVxlanDevice(x, links.get(x.name));
    cmds.push(...device);
    const fresh = device.some((c) => c[2] === 'add');
    const bridge = desired.bridges.find((b) => b.name === x.bridge)!;
    const entries = planVxlanEntries(x, observed, fresh, macChanges(bridge, links.get(x.bridge)));
    cmds.push(...entries.cmds);
    if (entries.announce) announcements.push(entries.announce);
  }
  for (const t of desired.taps) cmds.push(...planTap(t, links.get(t.name)));
  for (const v of desired.veths) cmds.push(...planVeth(v, links.get(v.name)));
  cmds.push(...planRoutes(desired.routes, observed.routes ?? []));
  for (const l of observed.links)
    if (l.owned && l.kind === 'bridge' && !wantedBridges.has(l.name))
      cmds.push(['ip', 'link', 'del', 'dev', l.name]);
  // A gateway forwards: the agent turns forwarding on (in its namespace; on the host in host mode)
  // and leaves it on, as other tools may rely on it too.
  if (desired.bridges.some((b) => b.gateway) && observed.ipForward === false)
    cmds.push(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  const nat = planTable(NAT_TABLE, natTableBody(desired), observed.nat);
  const portsBody = portsTableBody(desired);
  const update =
    observed.portsHeld && portsBody && observed.ports !== fingerprintOf(portsBody)
      ? portsTableUpdate(desired, observed.portsHeld)
      : undefined;
  const ports = update?.length
    ? planTableUpdate(PORTS_TABLE, portsBody, update)
    : planTable(
        PORTS_TABLE,
        portsBody,
        observed.ports,
        portsCounters(desired, observed.portDrops ?? {}),
      );
  // DHCP servers once their bridges carry the gateway. Last: everything is in place, and a host
  // without the interpreter fails only the announcement.
  return [
    ...cmds,
    ...nat,
    ...ports,
    ...planDnsmasq(dnsmasqDir, desired.bridges, observed.dnsmasq),
    ...announcements,
  ];
}
