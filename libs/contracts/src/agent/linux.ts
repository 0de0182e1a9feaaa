/**
 * Desired state of the node agent's `linux` driver for one host, rendered by the network registry
 * (full state, not a delta). Every name, address and MAC is validated again by the agent.
 */
export interface LinuxSpec {
  bridges: LinuxBridge[];
  taps: LinuxTap[];
  veths: LinuxVeth[];
  vxlans: LinuxVxlan[];
  /**
   * Host routes the agent owns (routing protocol HOST_ROUTE_PROTO): on a routed overlay, each
   * remote guest's address via its own host's underlay address, so that traffic routed in at any
   * member host reaches the guest without crossing the overlay (which carries no gateway frames).
   */
  routes: LinuxRoute[];
}

export interface LinuxRoute {
  /** address/32 */
  destination: string;
  /** The next hop: another host's underlay address, on a directly connected network. */
  via: string;
}

/** The routing protocol number marking the agent's routes (`ip route … proto 113`). */
export const HOST_ROUTE_PROTO = 113;

export interface LinuxBridge {
  name: string;
  mtu: number;
  /** Bridge VLAN filtering, needed by VLAN-tagged ports (a host capability). */
  vlan_filtering?: boolean;
  /** A physical interface enslaved to the bridge; never created or deleted by the agent. */
  uplink?: string;
  /**
   * The network's CIDR (bridge networks): the agent owns the IPv4 addresses inside it on this
   * bridge — it adds the gateway and removes any other, and touches no address outside it.
   */
  cidr?: string;
  /** The network's gateway on the bridge, address/prefix (nat and routed modes), e.g. 10.0.0.1/24. */
  gateway?: string;
  /** Masquerade what leaves the network from its CIDR (nat mode). */
  nat?: boolean;
  /** DHCP and DNS for the network's guests on this host; needs the gateway on the bridge. */
  dhcp?: LinuxDhcp;
  /**
   * The bridge's fixed MAC: an overlay's distributed gateway, the same on every member host, which
   * never leaves the host (its frames, ARP for the gateway and DHCP stay off the VXLAN port).
   */
  mac?: string;
}

/**
 * One dnsmasq per bridge, bound to it, answering from the gateway address: static leases only (one
 * per NIC of the network on this host) and DNS names for every NIC of the network, on every host.
 */
export interface LinuxDhcp {
  /** The network's search domain and the zone its names live in, e.g. web.qnet.internal. */
  domain: string;
  /** Option 26: the network's MTU. */
  mtu: number;
  /** Upstream resolvers for other names; none: only the network's own names are answered. */
  dns_servers: string[];
  /** Option 121, besides the default route via the gateway. */
  routes: { destination: string; gateway: string }[];
  /** One per NIC here; `name` (a DNS label) when the NIC has one. */
  leases: { mac: string; ip: string; name?: string }[];
  names: { ip: string; name: string }[];
}

/**
 * Anti-spoofing on a guest port: frames only from these MACs, IPv4 and ARP only from these
 * MAC/address pairs (the NIC's own first, then its allowed address pairs; an address may be a
 * CIDR), the DHCP client's 0.0.0.0 discover, and never a DHCP server's reply nor an IPv6 router
 * advertisement. Pairs without addresses (a network without IPAM) hold the port to its MACs only.
 * Absent: no filter.
 */
export interface PortSecurity {
  pairs: { mac: string; ip?: string }[];
}

/** A VM NIC: a TAP device that Firecracker/QEMU opens, attached to its bridge. */
export interface LinuxTap {
  name: string;
  bridge: string;
  mtu: number;
  /** Access VLAN: `bridge vlan add dev <tap> vid <id> pvid untagged`. */
  vlan_id?: number;
  security?: PortSecurity;
}

/** A container NIC: a veth pair, host end in the bridge, peer moved into the container's namespace. */
export interface LinuxVeth {
  name: string;
  bridge: string;
  mtu: number;
  vlan_id?: number;
  security?: PortSecurity;
  peer: {
    netns: string;
    name: string;
    mac: string;
    /** address/prefix, e.g. 10.0.0.5/24 */
    address?: string;
    gateway?: string;
  };
}

/**
 * One overlay network on this host: a VXLAN device in the network's bridge, programmed as
 * "unicast with dynamic L3 entries" (API 002): flood entries for the other hosts, a unicast fdb
 * entry per remote NIC, a static neighbour per address, ARP suppressed on the VXLAN port.
 */
export interface LinuxVxlan {
  name: string;
  vni: number;
  bridge: string;
  /** This host's underlay address. */
  local: string;
  port: number;
  mtu: number;
  /** Underlay addresses of the other participating hosts (BUM traffic head-end replication). */
  flood: string[];
  /** Remote NICs: guest MAC → underlay address of the host it lives on. */
  fdb: { mac: string; dst: string }[];
  /**
   * Every NIC of the overlay with an address, local and remote: permanent neighbour entries on the
   * bridge, which answers ARP for the remote ones itself (neigh_suppress). `announce` marks an
   * address that changed hands recently: when its entry is new or has a new MAC, the agent announces
   * it to the local guests (gratuitous ARP), so none keeps using the previous owner's MAC.
   */
  neigh: { ip: string; mac: string; announce?: boolean }[];
}

export const VXLAN_PORT = 4789;

/** The agent's nftables bridge-family table: port security, and DHCP kept off the underlay. */
export const PORT_SECURITY_TABLE = 'qnet_ports';

/** An overlay's distributed gateway MAC is this prefix and its 24-bit VNI (locally administered). */
export const GATEWAY_MAC_PREFIX = '02:71:6e';

/** What the linux driver reports between applies (DriverStatus.observed). */
export interface LinuxStatus {
  /** Frames each guest port's security dropped, by port (host_dev_name). */
  port_drops: Record<string, { packets: number; bytes: number }>;
  /** Per bridge with DHCP: whether its dnsmasq is running. */
  dhcp: Record<string, boolean>;
}
