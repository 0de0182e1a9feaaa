import { QnetError, type NetworkMode, type NetworkType } from '@qnet/contracts';
import {
  cidrContainsIp,
  canonicalIp,
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
 * needs the uplink it enslaves. For now all three are for bridge networks (an overlay's
 * distributed gateway and VLAN sub-interfaces are to come).
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
  if (type !== 'bridge')
    throw QnetError.invalid(
      'mode',
      `${mode} is supported on bridge networks only (this is ${type})`,
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
