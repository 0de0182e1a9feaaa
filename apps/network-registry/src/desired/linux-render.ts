import {
  GATEWAY_MAC_PREFIX,
  VXLAN_PORT,
  type LinuxBridge,
  type LinuxDhcp,
  type LinuxRoute,
  type PortSecurity,
  type StaticRoute,
  type LinuxSpec,
  type NetworkMode,
  type NetworkType,
  type NicKind,
} from '@qnet/contracts';
import { dnsDomainOf, dnsNameOf, type AddressPair } from '../dns.js';

export interface RenderNetwork {
  id: string;
  name: string;
  type: NetworkType;
  mode: NetworkMode;
  dhcp: boolean;
  dns_servers: string[];
  static_routes: StaticRoute[];
  uplink_interface: string | null;
  vni: number | null;
  vlan_id: number | null;
  bridge_name: string;
  mtu: number;
  cidr: string | null;
  prefix: number | null;
  gateway: string | null;
}

/** An overlay's distributed gateway MAC: locally administered, 02:71:6e ("qn") and its VNI. */
export function gatewayMacOf(vni: number): string {
  const hex = vni.toString(16).padStart(6, '0');
  return `${GATEWAY_MAC_PREFIX}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}

/** MACs are stored normalized (lower-case hex): code unit order is their order. */
const byMac = (a: { mac: string }, b: { mac: string }) =>
  a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0;

/**
 * A network's layer 3 on its bridge: the agent owns addresses inside its CIDR there, and in nat
 * and routed modes puts the gateway on it (nat: masqueraded on the way out) with the guests' DHCP
 * and DNS. An overlay's gateway is on every member host, with one MAC. A bridged network's CIDR is
 * its LAN's, whose addresses on the bridge (the host's own) are not ours.
 */
function bridgeL3(n: RenderNetwork, dhcp: () => LinuxDhcp): Partial<LinuxBridge> {
  if (n.mode === 'bridged' && n.uplink_interface) return { uplink: n.uplink_interface };
  if (n.type === 'vlan' || n.cidr === null) return {};
  if (n.mode === 'isolated' || n.gateway === null) return { cidr: n.cidr };
  return {
    cidr: n.cidr,
    gateway: `${n.gateway}/${n.prefix}`,
    ...(n.type === 'overlay' ? { mac: gatewayMacOf(n.vni!) } : {}),
    ...(n.mode === 'nat' ? { nat: true } : {}),
    ...(n.dhcp ? { dhcp: dhcp() } : {}),
  };
}

/**
 * The network's DHCP on this host: a static lease per NIC here with an address, and a DNS name for
 * every NIC of the network that has one (on every host).
 */
function dhcpOf(n: RenderNetwork, input: RenderInput): LinuxDhcp {
  const nics = input.nics.filter((c) => c.network_id === n.id && c.ip).sort(byMac);
  const named = nics.flatMap((c) => {
    const name = dnsNameOf(c);
    return name ? [{ ip: c.ip!, name }] : [];
  });
  return {
    domain: dnsDomainOf(n, input.dnsDomain),
    mtu: n.mtu,
    dns_servers: n.dns_servers,
    routes: n.static_routes.map((r) => ({ destination: r.destination, gateway: r.nexthop })),
    leases: nics
      .filter((c) => c.host_id === input.hostId)
      .map((c) => {
        const name = dnsNameOf(c);
        return { mac: c.mac, ip: c.ip!, ...(name ? { name } : {}) };
      }),
    names: named,
  };
}

/** A guest port's anti-spoofing: its own MAC and address first, then its allowed pairs. */
function securityOf(c: RenderNic): PortSecurity | undefined {
  if (!c.port_security) return undefined;
  return {
    pairs: [
      { mac: c.mac, ...(c.ip ? { ip: c.ip } : {}) },
      ...c.allowed_address_pairs.map((p) => ({ mac: p.mac_address, ip: p.ip_address })),
    ],
  };
}

export interface RenderNic {
  network_id: string;
  host_id: string;
  kind: NicKind;
  mac: string;
  ip: string | null;
  /** Its address belonged to another NIC shortly before (guests may still cache that one's MAC). */
  reused: boolean;
  host_dev_name: string;
  iface_id: string;
  netns: string | null;
  vm_id: string;
  hostname: string | null;
  port_security: boolean;
  allowed_address_pairs: AddressPair[];
}

/** Everything the renderer needs about one host's networks, their members and NICs. */
export interface RenderInput {
  hostId: string;
  underlayIp: string;
  networks: RenderNetwork[];
  /** network id → member host id → underlay address (registered members only). */
  members: Map<string, Map<string, string>>;
  nics: RenderNic[];
  /** The cluster's DNS domain (QNET_DNS_DOMAIN). */
  dnsDomain: string;
}

/**
 * A routed overlay's gateway is on every member host, and traffic routed in at one of them for a
 * guest of another cannot cross the overlay (no gateway frame does): it goes to the guest's own
 * host over the underlay, by a host route per remote guest address.
 */
function routedOverlayRoutes(input: RenderInput): LinuxRoute[] {
  const routed = new Set(
    input.networks.filter((n) => n.type === 'overlay' && n.mode === 'routed').map((n) => n.id),
  );
  return input.nics
    .filter((c) => routed.has(c.network_id) && c.ip && c.host_id !== input.hostId)
    .flatMap((c) => {
      const via = input.members.get(c.network_id)?.get(c.host_id);
      return via ? [{ destination: `${c.ip}/32`, via }] : [];
    })
    .sort((a, b) => a.destination.localeCompare(b.destination));
}

export function vxlanName(vni: number): string {
  return `vx${vni}`;
}

/**
 * Registry rows → the linux driver's full desired state for one host: its bridges, its own NICs
 * and, per overlay, the VXLAN device with one flood entry per other member, one fdb entry per
 * remote NIC and one neighbour entry per NIC address. Pure: unit-tested with exact output.
 */
export function renderLinuxSpec(input: RenderInput): LinuxSpec {
  const bridges = new Map<string, LinuxBridge>();
  for (const n of input.networks) {
    const cur = bridges.get(n.bridge_name);
    bridges.set(n.bridge_name, {
      name: n.bridge_name,
      mtu: Math.max(cur?.mtu ?? 0, n.mtu),
      ...(cur?.vlan_filtering || n.vlan_id !== null ? { vlan_filtering: true } : {}),
      ...bridgeL3(n, () => dhcpOf(n, input)),
    });
  }
  const byId = new Map(input.networks.map((n) => [n.id, n]));
  const local = input.nics
    .filter((c) => c.host_id === input.hostId && byId.has(c.network_id))
    .sort((a, b) => a.host_dev_name.localeCompare(b.host_dev_name));
  const port = (c: RenderNic) => {
    const n = byId.get(c.network_id)!;
    return {
      name: c.host_dev_name,
      bridge: n.bridge_name,
      mtu: n.mtu,
      ...(n.vlan_id !== null ? { vlan_id: n.vlan_id } : {}),
      ...(c.port_security ? { security: securityOf(c) } : {}),
    };
  };
  return {
    routes: routedOverlayRoutes(input),
    bridges: [...bridges.values()].sort((a, b) => a.name.localeCompare(b.name)),
    taps: local.filter((c) => c.kind === 'tap').map(port),
    veths: local
      .filter((c) => c.kind === 'veth')
      .map((c) => {
        const n = byId.get(c.network_id)!;
        return {
          ...port(c),
          peer: {
            netns: c.netns!,
            name: c.iface_id,
            mac: c.mac,
            ...(c.ip && n.prefix !== null ? { address: `${c.ip}/${n.prefix}` } : {}),
            ...(c.ip && n.gateway ? { gateway: n.gateway } : {}),
          },
        };
      }),
    vxlans: input.networks
      .filter((n) => n.type === 'overlay')
      .sort((a, b) => a.vni! - b.vni!)
      .map((n) => {
        const members = input.members.get(n.id) ?? new Map<string, string>();
        const remote = input.nics
          .filter(
            (c) => c.network_id === n.id && c.host_id !== input.hostId && members.has(c.host_id),
          )
          .sort(byMac);
        return {
          name: vxlanName(n.vni!),
          vni: n.vni!,
          bridge: n.bridge_name,
          local: input.underlayIp,
          port: VXLAN_PORT,
          mtu: n.mtu,
          flood: [...members]
            .filter(([host]) => host !== input.hostId)
            .map(([, ip]) => ip)
            .sort(),
          fdb: remote.map((c) => ({ mac: c.mac, dst: members.get(c.host_id)! })),
          neigh: input.nics
            .filter((c) => c.network_id === n.id && c.ip && members.has(c.host_id))
            .sort((a, b) => a.mac.localeCompare(b.mac))
            .map((c) => ({ ip: c.ip!, mac: c.mac, ...(c.reused ? { announce: true } : {}) })),
        };
      }),
  };
}
