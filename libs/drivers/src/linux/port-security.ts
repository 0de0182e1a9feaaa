import { PORT_SECURITY_TABLE, type LinuxSpec, type PortSecurity } from '@qnet/contracts';
import { cidrsOverlap, eui64LinkLocal, eui64LinkLocalHex, parseCidr } from '@qnet/netaddr';
import { namedCounters, type OwnedTable } from '../nft.js';

/** The agent's bridge-family table: every guest port's filter, and DHCP kept off the underlay. */
export const PORTS_TABLE: OwnedTable = { family: 'bridge', name: PORT_SECURITY_TABLE };

/** Drops per guest port, by port name. */
export type PortDrops = Record<string, { packets: number; bytes: number }>;

/** nft identifier of a port's counter (interface names may hold '-' and '.'). */
const hex = (port: string) => Buffer.from(port).toString('hex');
const counterOf = (port: string) => `drops_${hex(port)}`;
const portOfCounter = (name: string) => Buffer.from(name.slice('drops_'.length), 'hex').toString();

const DROP = 'counter name iifname map @port_drops drop';

/**
 * Every guest port's checks as a few rules over sets keyed by port name, so that a host with a
 * thousand ports replaces and lists its table in tens of milliseconds (a chain per port took
 * seconds): the kernel looks a frame up by port, MAC and address instead of walking chains.
 */
const GUEST_CHAINS = `  chain guest {
    iifname . ether saddr != @port_macs ${DROP}
    ether type ip udp sport 67 ${DROP}
    iifname @addressed_ports jump addressed
    ether type ip6 icmpv6 type nd-router-advert ${DROP}
    ether type != { ip, arp, ip6 } ${DROP}
  }
  chain addressed {
    ether type arp arp saddr ip 0.0.0.0 return
    ether type arp iifname . arp saddr ether . arp saddr ip != @port_addrs ${DROP}
    ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 return
    ether type ip iifname . ether saddr . ip saddr != @port_addrs ${DROP}
    ether type ip6 ip6 saddr != :: iifname . ip6 saddr != @port_lladdrs ${DROP}
    ether type ip6 icmpv6 type nd-neighbor-advert iifname . @th,64,128 != @port_nd_targets ${DROP}
  }
`;
// Read as: a port's own MAC is checked first; DHCP snooping (a guest is never a DHCP server, nor
// an IPv6 router); an ARP probe (RFC 5227) asks from 0.0.0.0 whether an address is free; IPAM
// hands out IPv4 only, so IPv6 may come only from the link-local address the port's MAC derives
// (EUI-64, as Neutron and OVN allow) or, for duplicate address detection, from ::, and a neighbour
// advertisement may claim only that address (ND spoofing); a NIC without an address (a network without IPAM) is held to its MAC only;
// tagged or other frames would bypass the checks.

/** `type` is a set's declaration: `type <datatype>`, or `typeof <expression>` for raw fields. */
function set(name: string, type: string, elements: string[], flags = '', kind = 'set'): string {
  const els = elements.length ? `    elements = { ${elements.join(', ')} }\n` : '';
  return `  ${kind} ${name} {\n    ${type}\n${flags ? `    flags ${flags}\n` : ''}${els}  }\n`;
}

/**
 * A port's MAC/address pairs without those another pair of the same MAC covers: an interval set
 * refuses overlapping elements (an allowed 10.0.0.0/24 next to the NIC's own 10.0.0.5).
 */
function addressPairs(s: PortSecurity): { mac: string; ip: string }[] {
  const withIp = s.pairs.filter((p): p is { mac: string; ip: string } => Boolean(p.ip));
  if (withIp.length < 2) return withIp; // a NIC's own address alone: the usual case
  const broadestFirst = withIp
    .map((p) => ({ ...p, cidr: parseCidr(p.ip.includes('/') ? p.ip : `${p.ip}/32`) }))
    .sort((a, b) => a.cidr.prefix - b.cidr.prefix);
  const kept: typeof broadestFirst = [];
  for (const p of broadestFirst)
    if (!kept.some((k) => k.mac === p.mac && cidrsOverlap(k.cidr, p.cidr))) kept.push(p);
  return kept.map(({ mac, ip }) => ({ mac, ip }));
}

/**
 * What a port change touches: the ports (each in guest_ports and port_drops, with its counter) and
 * the elements of the other sets.
 */
interface PortElements {
  ports: string[];
  addressed_ports: string[];
  port_macs: string[];
  port_addrs: string[];
  /** Each of the port's MACs' link-local address, as an address and as nft's raw 128 bits. */
  port_lladdrs: string[];
  port_nd_targets: string[];
}

type SecuredPort = { name: string; security: PortSecurity };

const quoted = (port: string) => `"${port}"`;
const dropsElement = (port: string) => `${quoted(port)} : "${counterOf(port)}"`;

const macsOf = (p: SecuredPort) => [...new Set(p.security.pairs.map((x) => x.mac))];

/** One port's elements of each set (see PortElements). */
interface OnePort {
  addressed: boolean;
  macs: string[];
  addrs: string[];
  lladdrs: string[];
  ndTargets: string[];
}

/**
 * Each port's elements by its name and pairs: every change brings the host's whole spec, and a
 * host of 1,000 ports would otherwise derive 1,000 ports' addresses again for the one that came.
 */
const derived = new Map<string, OnePort>();
const MAX_DERIVED = 50_000;

function elementsOf(p: SecuredPort): OnePort {
  const key = `${p.name}\n${JSON.stringify(p.security)}`;
  let d = derived.get(key);
  if (d === undefined) {
    if (derived.size >= MAX_DERIVED) derived.clear();
    const q = quoted(p.name);
    const macs = macsOf(p);
    const addressed = p.security.pairs.some((x) => x.ip);
    d = {
      addressed,
      macs: macs.map((m) => `${q} . ${m}`),
      addrs: addressPairs(p.security).map((x) => `${q} . ${x.mac} . ${x.ip}`),
      lladdrs: addressed ? macs.map((m) => `${q} . ${eui64LinkLocal(m)}`) : [],
      ndTargets: addressed ? macs.map((m) => `${q} . ${eui64LinkLocalHex(m)}`) : [],
    };
    derived.set(key, d);
  }
  return d;
}

function portElements(ports: SecuredPort[]): PortElements {
  const each = ports.map(elementsOf);
  return {
    ports: ports.map((p) => p.name),
    addressed_ports: ports.filter((_, i) => each[i]!.addressed).map((p) => quoted(p.name)),
    port_macs: each.flatMap((d) => d.macs),
    port_addrs: each.flatMap((d) => d.addrs),
    port_lladdrs: each.flatMap((d) => d.lladdrs),
    port_nd_targets: each.flatMap((d) => d.ndTargets),
  };
}

/** The sets and the map, with their elements or (`shape`) without. */
function guestSets(e: PortElements, shape: boolean): string {
  const els = (list: string[]) => (shape ? [] : list);
  return [
    set('guest_ports', 'type ifname', els(e.ports.map(quoted))),
    set('addressed_ports', 'type ifname', els(e.addressed_ports)),
    set('port_macs', 'type ifname . ether_addr', els(e.port_macs)),
    set('port_addrs', 'type ifname . ether_addr . ipv4_addr', els(e.port_addrs), 'interval'),
    set('port_lladdrs', 'type ifname . ipv6_addr', els(e.port_lladdrs)),
    set('port_nd_targets', 'typeof iifname . @th,64,128', els(e.port_nd_targets)),
    set('port_drops', 'type ifname : counter', els(e.ports.map(dropsElement)), '', 'map'),
  ].join('');
}

/**
 * What must not cross an overlay's VXLAN port, either way: DHCP where the hosts serve it
 * themselves, and a distributed gateway's frames and ARP for it (every host has its own).
 */
function underlayRules(spec: LinuxSpec): { in: string[]; out: string[]; forward: string[] } {
  const rules = { in: [] as string[], out: [] as string[], forward: [] as string[] };
  const bridges = new Map(spec.bridges.map((b) => [b.name, b]));
  for (const x of spec.vxlans) {
    const b = bridges.get(x.bridge)!;
    const [i, o] = [`iifname "${x.name}"`, `oifname "${x.name}"`];
    if (b.dhcp) {
      const dhcp = 'ether type ip udp dport { 67, 68 } drop';
      rules.in.push(`${i} ${dhcp}`);
      rules.out.push(`${o} ${dhcp}`);
      rules.forward.push(`${o} ${dhcp}`);
    }
    if (b.mac && b.gateway) {
      rules.in.push(`${i} ether saddr ${b.mac} drop`);
      rules.out.push(`${o} ether saddr ${b.mac} drop`);
      rules.forward.push(`${o} ether type arp arp daddr ip ${b.gateway.split('/')[0]} drop`);
    }
  }
  return rules;
}

const chain = (name: string, hook: string, rules: string[]) =>
  rules.length
    ? `  chain ${name} {\n    type filter hook ${hook} priority filter; policy accept;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`
    : '';

/**
 * The table's body: a guest port's frames enter the guest chain (bridge prerouting sees every
 * frame a guest sends, forwarded or to the host), then what stays off the underlay. '' when there
 * is nothing to filter.
 */
export function portsTableBody(spec: LinuxSpec): string {
  return rendered(spec).body;
}

interface RenderedPorts {
  elements: PortElements;
  body: string;
  /** The body without elements: two specs with one shape differ only in elements. */
  shape: string;
}

/**
 * Rendered once per spec (a spec is never changed once parsed): a reconcile reads the desired
 * spec's table when it observes and when it plans, and the applied one's on every reconcile after.
 */
const renderings = new WeakMap<LinuxSpec, RenderedPorts>();

function rendered(spec: LinuxSpec): RenderedPorts {
  let r = renderings.get(spec);
  if (r === undefined) {
    const elements = portElements(securedPorts(spec));
    r = {
      elements,
      body: renderPortsTable(spec, elements, false),
      shape: renderPortsTable(spec, elements, true),
    };
    renderings.set(spec, r);
  }
  return r;
}

function renderPortsTable(spec: LinuxSpec, elements: PortElements, shape: boolean): string {
  const guarded = elements.ports.length > 0;
  const underlay = underlayRules(spec);
  const pre = [...underlay.in, ...(guarded ? ['iifname @guest_ports jump guest'] : [])];
  return [
    ...(guarded ? [guestSets(elements, shape)] : []),
    chain('prerouting', 'prerouting', pre),
    chain('forward', 'forward', underlay.forward),
    chain('output', 'output', underlay.out),
    ...(guarded ? [GUEST_CHAINS] : []),
  ].join('');
}

/**
 * The statements that turn the table `held`'s body built into `desired`'s, when only ports came,
 * went or changed their pairs (the usual attach and detach): removed elements first, then their
 * counters, then the new counters and elements — a port's map entry never names a missing
 * counter. Undefined when anything else differs (the table is replaced); counts stay as they are.
 */
export function portsTableUpdate(desired: LinuxSpec, held: LinuxSpec): string[] | undefined {
  const [was, will] = [rendered(held), rendered(desired)];
  if (will.shape !== was.shape) return undefined;
  const [from, to] = [was.elements, will.elements];
  const ref = `${PORTS_TABLE.family} ${PORTS_TABLE.name}`;
  const diff = (k: keyof PortElements, which: 'gone' | 'new') => {
    const [a, b] = which === 'gone' ? [from[k], new Set(to[k])] : [to[k], new Set(from[k])];
    return a.filter((e) => !b.has(e));
  };
  const elements = (verb: string, name: string, list: string[]) =>
    list.length ? [`${verb} element ${ref} ${name} { ${list.join(', ')} }`] : [];
  const sets = [
    'addressed_ports',
    'port_macs',
    'port_addrs',
    'port_lladdrs',
    'port_nd_targets',
  ] as const;
  const [gone, added] = [diff('ports', 'gone'), diff('ports', 'new')];
  return [
    ...elements('delete', 'port_drops', gone.map(quoted)),
    ...elements('delete', 'guest_ports', gone.map(quoted)),
    ...sets.flatMap((k) => elements('delete', k, diff(k, 'gone'))),
    ...gone.map((p) => `delete counter ${ref} ${counterOf(p)}`),
    ...added.map((p) => `add counter ${ref} ${counterOf(p)}`),
    ...elements('add', 'guest_ports', added.map(quoted)),
    ...sets.flatMap((k) => elements('add', k, diff(k, 'new'))),
    ...elements('add', 'port_drops', added.map(dropsElement)),
  ];
}

/**
 * Whether going from the table `held` to `desired` replaces it whole (its shape changed), which
 * keeps each port's count only when the counts are read first.
 */
export function rewritesPortsTable(desired: LinuxSpec, held: LinuxSpec): boolean {
  const [body, before] = [portsTableBody(desired), portsTableBody(held)];
  return (
    body !== '' && before !== '' && body !== before && !portsTableUpdate(desired, held)?.length
  );
}

const securedPorts = (spec: LinuxSpec): SecuredPort[] =>
  [...spec.taps, ...spec.veths].flatMap((p) =>
    p.security ? [{ name: p.name, security: p.security }] : [],
  );

/**
 * The counters, declared with the counts the table has now: replacing the table (any port's
 * change) keeps every port's drop count. Not part of the fingerprint.
 */
export function portsCounters(spec: LinuxSpec, drops: PortDrops): string {
  return securedPorts(spec)
    .map((p) => {
      const d = drops[p.name] ?? { packets: 0, bytes: 0 };
      return `  counter ${counterOf(p.name)} { packets ${d.packets} bytes ${d.bytes} }\n`;
    })
    .join('');
}

/** The drop counters in `nft list table bridge qnet_ports` output. */
export function parsePortDrops(listing: string): PortDrops {
  const drops: PortDrops = {};
  for (const [name, counts] of namedCounters(listing))
    if (name.startsWith('drops_')) drops[portOfCounter(name)] = counts;
  return drops;
}
