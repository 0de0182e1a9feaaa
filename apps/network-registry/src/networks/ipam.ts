import { QnetError, type NetworkMode, type NetworkType } from '@qnet/contracts';
import {
  cidrContainsIp,
  canonicalIp,
  ipFamily,
  ipToBigInt,
  isIp,
  isNetworkOrBroadcast,
  parseCidr,
  type Cidr,
} from '@qnet/netaddr';

/** A block of offsets (0 = the network address) IPAM never hands out. */
export interface OffsetRange {
  lo: bigint;
  hi: bigint;
}

/** The gateway must be a host address inside the network. */
export function checkGateway(cidr: Cidr | undefined, gateway: string | undefined): void {
  if (gateway === undefined) return;
  if (!cidr) throw QnetError.invalid('gateway', 'needs a cidr');
  if (!cidrContainsIp(cidr, gateway))
    throw QnetError.invalid('gateway', `${gateway} is not inside ${cidr.text}`);
  if (isNetworkOrBroadcast(cidr, gateway))
    throw QnetError.invalid(
      'gateway',
      `${gateway} is the network or broadcast address of ${cidr.text}`,
    );
}

/**
 * nat and routed put the gateway on the network's bridge: they need a cidr and a gateway; bridged
 * needs the uplink it enslaves. An overlay's gateway is distributed — every member host carries it
 * (nat: and masquerades its own guests; routed: and routes to each remote guest via its host) —
 * and an overlay enslaves no uplink. VLAN sub-interfaces are to come.
 */
export function checkMode(
  type: NetworkType,
  mode: NetworkMode,
  cidr: Cidr | undefined,
  gateway: string | undefined,
  uplink: string | undefined,
): void {
  if (mode !== 'bridged' && uplink !== undefined)
    throw QnetError.invalid('uplink_interface', 'is for bridged networks only');
  if (mode === 'isolated') return;
  if (type === 'vlan' || (type === 'overlay' && mode === 'bridged'))
    throw QnetError.invalid(
      'mode',
      type === 'vlan'
        ? `${mode} is not supported on vlan networks yet`
        : `an overlay spans hosts and enslaves no uplink: isolated, nat or routed (not bridged)`,
    );
  if (mode === 'bridged') {
    if (!uplink) throw QnetError.invalid('uplink_interface', 'is required in bridged mode');
    return;
  }
  if (!cidr) throw QnetError.invalid('cidr', `is required in ${mode} mode`);
  if (!gateway) throw QnetError.invalid('gateway', `is required in ${mode} mode`);
}

/** "10.0.0.10", "10.0.0.10-10.0.0.20" or "10.0.0.16/28", each inside the network. */
export function parseReservedRanges(ranges: string[], cidr: Cidr | undefined): OffsetRange[] {
  if (ranges.length && !cidr) throw QnetError.invalid('reserved_ranges', 'needs a cidr');
  return ranges.map((r, i) => {
    const field = `reserved_ranges[${i}]`;
    let lo: bigint;
    let hi: bigint;
    if (r.includes('/')) {
      let block: Cidr;
      try {
        block = parseCidr(r);
      } catch (err) {
        throw QnetError.invalid(field, (err as Error).message);
      }
      lo = block.network;
      hi = block.network + block.size - 1n;
    } else {
      const [a, b = a] = r.split('-') as [string, string?];
      if (!isIp(a) || !isIp(b!))
        throw QnetError.invalid(field, 'must be an address, a-b range or CIDR');
      lo = ipToBigInt(a);
      hi = ipToBigInt(b!);
    }
    const net = cidr!;
    if (lo > hi) throw QnetError.invalid(field, 'range ends before it starts');
    if (lo < net.network || hi > net.network + net.size - 1n)
      throw QnetError.invalid(field, `${r} is not inside ${net.text}`);
    return { lo: lo - net.network, hi: hi - net.network };
  });
}

/** Normalised text of a reserved range list (as stored). */
export function canonicalRanges(ranges: string[]): string[] {
  return ranges.map((r) =>
    r.includes('/')
      ? parseCidr(r).text
      : r
          .split('-')
          .map((a) => canonicalIp(a))
          .join('-'),
  );
}

/**
 * DHCP options: upstream resolvers are IPv4 addresses, and each option 121 route's next hop is a
 * unicast address of the network, as a guest can only reach a next hop on its own segment.
 */
export function checkGuestServices(
  mode: NetworkMode,
  cidr: Cidr | undefined,
  opts: {
    dhcp?: boolean;
    dns_servers?: string[];
    static_routes?: { destination: string; nexthop: string }[];
  },
): void {
  if (opts.dhcp === true && mode !== 'nat' && mode !== 'routed')
    throw QnetError.invalid(
      'dhcp',
      `is served by the gateway on the bridge: nat or routed mode (this is ${mode})`,
    );
  opts.dns_servers?.forEach((s, i) => {
    if (ipFamily(s) !== 4) throw QnetError.invalid(`dns_servers[${i}]`, 'must be an IPv4 address');
  });
  opts.static_routes?.forEach((r, i) => {
    const field = `static_routes[${i}]`;
    if (parseCidr(r.destination).family !== 4)
      throw QnetError.invalid(`${field}.destination`, 'must be an IPv4 CIDR');
    if (!cidr) throw QnetError.invalid(field, 'needs the network to have a cidr');
    if (
      ipFamily(r.nexthop) !== 4 ||
      !cidrContainsIp(cidr, r.nexthop) ||
      isNetworkOrBroadcast(cidr, r.nexthop)
    )
      throw QnetError.invalid(`${field}.nexthop`, `must be a host address inside ${cidr.text}`);
  });
}

export const canonicalRoutes = (routes: { destination: string; nexthop: string }[]) =>
  routes.map((r) => ({ destination: r.destination, nexthop: canonicalIp(r.nexthop) }));
