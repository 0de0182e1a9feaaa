import { PORT_SECURITY_TABLE, type LinuxSpec, type PortSecurity } from '@qnet/contracts';
import type { OwnedTable } from '../nft.js';

/** The agent's bridge-family table: every guest port's filter, and DHCP kept off the underlay. */
export const PORTS_TABLE: OwnedTable = { family: 'bridge', name: PORT_SECURITY_TABLE };

/** Drops per guest port, by port name. */
export type PortDrops = Record<string, { packets: number; bytes: number }>;

/** nft identifiers of a port's chain and counter (interface names may hold '-' and '.'). */
const hex = (port: string) => Buffer.from(port).toString('hex');
const chainOf = (port: string) => `port_${hex(port)}`;
const counterOf = (port: string) => `drops_${hex(port)}`;
const portOfCounter = (name: string) => Buffer.from(name.slice('drops_'.length), 'hex').toString();

function portChain(port: string, s: PortSecurity): string {
  const drop = `counter name "${counterOf(port)}" drop`;
  const macs = [...new Set(s.pairs.map((p) => p.mac))].join(', ');
  const withIp = s.pairs.filter((p) => p.ip);
  const pairs = withIp.map((p) => `${p.mac} . ${p.ip}`).join(', ');
  // A NIC without an address (a network without IPAM) is held to its MAC only.
  const addressRules = pairs
    ? [
        // An ARP probe (RFC 5227) asks from 0.0.0.0 whether an address is free.
        `ether type arp arp saddr ip 0.0.0.0 return`,
        `ether type arp arp saddr ether . arp saddr ip != { ${pairs} } ${drop}`,
        `ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 return`,
        `ether type ip ether saddr . ip saddr != { ${pairs} } ${drop}`,
      ]
    : [];
  const rules = [
    `ether saddr != { ${macs} } ${drop}`,
    // DHCP snooping: a guest is never a DHCP server; nor an IPv6 router.
    `ether type ip udp sport 67 ${drop}`,
    ...addressRules,
    `ether type ip6 icmpv6 type nd-router-advert ${drop}`,
    // Tagged or other frames would bypass the checks above.
    `ether type != { ip, arp, ip6 } ${drop}`,
  ];
  return `  chain ${chainOf(port)} {\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
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
 * The table's body: a port's frames enter its chain (bridge prerouting sees every frame a guest
 * sends, forwarded or to the host), then what stays off the underlay. '' when there is nothing to
 * filter.
 */
export function portsTableBody(spec: LinuxSpec): string {
  const ports = [...spec.taps, ...spec.veths].filter((p) => p.security);
  const underlay = underlayRules(spec);
  const dispatch = ports.map((p) => `"${p.name}" : jump ${chainOf(p.name)}`).join(', ');
  const pre = [...underlay.in, ...(ports.length ? [`iifname vmap { ${dispatch} }`] : [])];
  return [
    chain('prerouting', 'prerouting', pre),
    chain('forward', 'forward', underlay.forward),
    chain('output', 'output', underlay.out),
    ...ports.map((p) => portChain(p.name, p.security!)),
  ].join('');
}

/**
 * The counters, declared with the counts the table has now: replacing the table (any port's
 * change) keeps every port's drop count. Not part of the fingerprint.
 */
export function portsCounters(spec: LinuxSpec, drops: PortDrops): string {
  return [...spec.taps, ...spec.veths]
    .filter((p) => p.security)
    .map((p) => {
      const d = drops[p.name] ?? { packets: 0, bytes: 0 };
      return `  counter ${counterOf(p.name)} { packets ${d.packets} bytes ${d.bytes} }\n`;
    })
    .join('');
}

/** The drop counters in `nft list table bridge qnet_ports` output. */
export function parsePortDrops(listing: string): PortDrops {
  const drops: PortDrops = {};
  const re = /counter (drops_[0-9a-f]+) \{\s*packets (\d+) bytes (\d+)/g;
  for (const m of listing.matchAll(re))
    drops[portOfCounter(m[1]!)] = { packets: Number(m[2]), bytes: Number(m[3]) };
  return drops;
}
