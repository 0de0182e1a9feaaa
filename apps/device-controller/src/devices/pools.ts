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
