import { bigIntToIp, ipFamily, ipToBigInt, isIp, type IpFamily } from '@qnet/netaddr';
import type { DeviceConfig } from '../config.js';

/** A tunnel address pool: base address plus offsets start..end (API 004's ip_allocation). */
export interface AddressPool {
  base: string;
  start: number;
  end: number;
}

export function poolsOf(c: DeviceConfig): { v4: AddressPool; v6: AddressPool } {
  const v4 = { base: c.ipv4Base, start: c.ipv4Start, end: c.ipv4End };
  const v6 = { base: c.ipv6Base, start: c.ipv6Start, end: c.ipv6End };
  check('DEVICE_TUN_IPV4', v4, 4);
  check('DEVICE_TUN_IPV6', v6, 6);
  return { v4, v6 };
}

function check(prefix: string, p: AddressPool, family: IpFamily): void {
  if (!isIp(p.base) || ipFamily(p.base) !== family)
    throw new Error(`${prefix}_BASE must be an IPv${family} address`);
  if (p.end < p.start) throw new Error(`${prefix}_END must be >= ${prefix}_START`);
  const last = ipToBigInt(p.base) + BigInt(p.end);
  if (last >= 1n << (family === 4 ? 32n : 128n))
    throw new Error(`${prefix}: base + end leaves the address space`);
}

export function addressOf(p: AddressPool, offset: number): string {
  return bigIntToIp(ipToBigInt(p.base) + BigInt(offset), ipFamily(p.base));
}

/** The length of the shortest prefix holding the whole pool: a router's tunnel device carries it. */
export function coveringPrefix(p: AddressPool): number {
  const family = ipFamily(p.base);
  const base = ipToBigInt(p.base);
  const spread = (base + BigInt(p.start)) ^ (base + BigInt(p.end));
  return (family === 4 ? 32 : 128) - spread.toString(2).length + (spread === 0n ? 1 : 0);
}

/** An endpoint's second tunnel device: its first one's trailing number plus one (tun0 → tun1). */
export function secondTunnelName(first: string): string {
  const m = /^(.*?)(\d+)$/.exec(first);
  if (!m) throw new Error(`${first} does not end in a number`);
  return `${m[1]}${Number(m[2]) + 1}`;
}
