import type { ObservedDnsmasq } from './dnsmasq.js';
import type { PortDrops } from './port-security.js';
import type { LinuxRoute, LinuxSpec } from '@qnet/contracts';

/** What the agent reads back from the kernel, parsed from the JSON output of ip(8) and bridge(8). */

/** Alias the agent puts on every device it creates: it only ever changes or removes marked devices. */
export const OWNED_ALIAS = 'qnet-managed';

export interface ObservedLink {
  name: string;
  /** linkinfo kind: bridge, tun, veth, vxlan, … ('' for plain devices). */
  kind: string;
  mtu: number;
  up: boolean;
  owned: boolean;
  master?: string;
  vlanFiltering?: boolean;
  /** Bridge port flag of ARP/ND suppression. */
  neighSuppress?: boolean;
  vxlan?: { vni: number; local: string; port: number };
  /** Global IPv4 addresses, address/prefix (read for every link; kept for bridges). */
  addresses?: string[];
  /** A bridge's own MAC. */
  mac?: string;
}

export interface ObservedFdb {
  mac: string;
  dst?: string;
  /** An entry of the VXLAN device itself (dst = remote VTEP), as opposed to one in the bridge. */
  self: boolean;
  state: string;
}

export interface LinuxObserved {
  links: ObservedLink[];
  /** Per VXLAN device. */
  fdb: Record<string, ObservedFdb[]>;
  /** Permanent neighbour entries per bridge. */
  neigh: Record<string, { ip: string; mac: string }[]>;
  /** The agent's own routes (HOST_ROUTE_PROTO); undefined when not read (none wanted or held). */
  routes?: LinuxRoute[];
  /** Named network namespaces (`ip netns`); undefined when not observed (dry-run). */
  namespaces?: string[];
  /** Fingerprint of the agent's NAT table; undefined when it does not exist (or was not read). */
  nat?: string;
  /** net.ipv4.ip_forward; undefined when not read (no gateway wanted). */
  ipForward?: boolean;
  /** Fingerprint of the agent's port-security table and its drop counters (when read). */
  ports?: string;
  portDrops?: PortDrops;
  /** The applied spec whose port-security table the host holds (its fingerprint matched). */
  portsHeld?: LinuxSpec;
  /** The DHCP servers' directories, per bridge. */
  dnsmasq: Record<string, ObservedDnsmasq>;
}

interface IpLink {
  ifname: string;
  mtu: number;
  address?: string;
  flags?: string[];
  ifalias?: string;
  master?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: { id?: number; local?: string; port?: number; vlan_filtering?: number };
    info_slave_data?: { neigh_suppress?: boolean };
  };
  addr_info?: { family?: string; local?: string; prefixlen?: number; scope?: string }[];
}

function json<T>(stdout: string): T[] {
  return stdout.trim() ? (JSON.parse(stdout) as T[]) : [];
}

/** `ip -j -d addr show` → links (with their addresses). */
export function parseLinks(stdout: string): ObservedLink[] {
  return json<IpLink>(stdout).map((l) => {
    const kind = l.linkinfo?.info_kind ?? '';
    const data = l.linkinfo?.info_data;
    return {
      name: l.ifname,
      kind,
      mtu: l.mtu,
      up: (l.flags ?? []).includes('UP'),
      owned: l.ifalias === OWNED_ALIAS,
      ...(l.master ? { master: l.master } : {}),
      ...(kind === 'bridge'
        ? {
            vlanFiltering: data?.vlan_filtering === 1,
            ...(l.address ? { mac: l.address.toLowerCase() } : {}),
            addresses: (l.addr_info ?? [])
              .filter((a) => a.family === 'inet' && a.scope === 'global' && a.local)
              .map((a) => `${a.local}/${a.prefixlen}`),
          }
        : {}),
      ...(l.linkinfo?.info_slave_data
        ? { neighSuppress: l.linkinfo.info_slave_data.neigh_suppress === true }
        : {}),
      ...(kind === 'vxlan'
        ? { vxlan: { vni: data?.id ?? 0, local: data?.local ?? '', port: data?.port ?? 0 } }
        : {}),
    };
  });
}

/** `bridge -j fdb show dev <vxlan>` → entries (self = the VXLAN's own table). */
export function parseFdb(stdout: string): ObservedFdb[] {
  return json<{ mac: string; dst?: string; flags?: string[]; master?: string; state?: string }>(
    stdout,
  ).map((e) => ({
    mac: e.mac.toLowerCase(),
    ...(e.dst ? { dst: e.dst } : {}),
    self: (e.flags ?? []).includes('self') || (!e.master && e.dst !== undefined),
    state: e.state ?? '',
  }));
}

/** `ip -j neigh show dev <bridge> nud permanent` → entries. */
export function parseNeigh(stdout: string): { ip: string; mac: string }[] {
  return json<{ dst: string; lladdr?: string }>(stdout)
    .filter((n) => n.lladdr)
    .map((n) => ({ ip: n.dst, mac: n.lladdr!.toLowerCase() }));
}

/** `ip -j route show proto <ours>` → routes (address/32 via next hop). */
export function parseRoutes(stdout: string): LinuxRoute[] {
  return json<{ dst: string; gateway?: string }>(stdout).map((r) => ({
    destination: r.dst.includes('/') ? r.dst : `${r.dst}/32`,
    via: r.gateway ?? '',
  }));
}
