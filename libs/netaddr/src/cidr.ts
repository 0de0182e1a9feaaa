import ipaddr from 'ipaddr.js';

export type IpFamily = 4 | 6;

/** A parsed, canonical CIDR block. Addresses are carried as BigInt so one code path serves v4 and v6. */
export interface Cidr {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly prefix: number;
  /** Total number of addresses in the block (2^(bits - prefix)). */
  readonly size: bigint;
  readonly text: string;
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

export function isIp(text: string): boolean {
  if (typeof text !== 'string') return false;
  if (DOTTED_QUAD.test(text)) return true;
  return text.includes(':') && ipaddr.isValid(text) && !text.includes('%');
}

/**
 * IPv4 is accepted only as a dotted quad without leading zeros (ipaddr.js also takes "10.1" and
 * "0x0a.0.0.1"), which is its canonical form too; such addresses, the most common by far, are
 * read without ipaddr.js (a desired state names thousands).
 */
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function ipFamily(text: string): IpFamily {
  if (DOTTED_QUAD.test(text)) return 4;
  return ipaddr.parse(text).kind() === 'ipv4' ? 4 : 6;
}

export function ipToBigInt(text: string): bigint {
  if (DOTTED_QUAD.test(text))
    return BigInt(text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0));
  const bytes = ipaddr.parse(text).toByteArray();
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

export function bigIntToIp(value: bigint, family: IpFamily): string {
  const len = family === 4 ? 4 : 16;
  const bytes = new Array<number>(len);
  let v = value;
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** Normalises an address to its canonical text form (compressed IPv6, plain dotted IPv4). */
export function canonicalIp(text: string): string {
  return DOTTED_QUAD.test(text) ? text : ipaddr.parse(text).toString();
}

export class CidrError extends Error {}

/**
 * Parses "a.b.c.d/n" or "x::/n". With `strict` (the default) host bits must be zero, so
 * "10.0.0.1/24" is rejected: a network is named by its network address.
 */
export function parseCidr(text: string, strict = true): Cidr {
  if (typeof text !== 'string' || !text.includes('/'))
    throw new CidrError('not in address/prefix form');
  const [addr, prefixText] = text.split('/', 2) as [string, string];
  if (!isIp(addr)) throw new CidrError(`"${addr}" is not an IP address`);
  if (!/^\d{1,3}$/.test(prefixText)) throw new CidrError('prefix length must be a number');
  const family = ipFamily(addr);
  const bits = BITS[family];
  const prefix = Number(prefixText);
  if (prefix > bits) throw new CidrError(`prefix length must be at most ${bits}`);
  const hostBits = BigInt(bits - prefix);
  const value = ipToBigInt(addr);
  const network = (value >> hostBits) << hostBits;
  if (strict && network !== value) {
    throw new CidrError(
      `host bits are set; the network is ${bigIntToIp(network, family)}/${prefix}`,
    );
  }
  return {
    family,
    network,
    prefix,
    size: 1n << hostBits,
    text: `${bigIntToIp(network, family)}/${prefix}`,
  };
}

export function isCanonicalCidr(text: string): boolean {
  try {
    return parseCidr(text).text === text;
  } catch {
    return false;
  }
}

export function lastAddress(c: Cidr): bigint {
  return c.network + c.size - 1n;
}

export function cidrContainsIp(c: Cidr, ip: string): boolean {
  if (!isIp(ip) || ipFamily(ip) !== c.family) return false;
  const v = ipToBigInt(ip);
  return v >= c.network && v <= lastAddress(c);
}

export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    inner.prefix >= outer.prefix &&
    inner.network >= outer.network &&
    lastAddress(inner) <= lastAddress(outer)
  );
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

/** IPv4 blocks larger than /31 reserve their first (network) and last (broadcast) address. */
export function isNetworkOrBroadcast(c: Cidr, ip: string): boolean {
  if (c.family !== 4 || c.prefix >= 31) return c.family === 6 && ipToBigInt(ip) === c.network;
  const v = ipToBigInt(ip);
  return v === c.network || v === lastAddress(c);
}

/** The address at `offset` inside the block (0 = network address). */
export function addressAt(c: Cidr, offset: bigint): string {
  if (offset < 0n || offset >= c.size) throw new CidrError(`offset ${offset} is outside ${c.text}`);
  return bigIntToIp(c.network + offset, c.family);
}

export function offsetOf(c: Cidr, ip: string): bigint {
  if (!cidrContainsIp(c, ip)) throw new CidrError(`${ip} is not inside ${c.text}`);
  return ipToBigInt(ip) - c.network;
}

/** Range of offsets a host may be given: skips network and broadcast where they exist. */
export function usableOffsets(c: Cidr): { first: bigint; last: bigint } {
  if (c.family === 4 && c.prefix < 31) return { first: 1n, last: c.size - 2n };
  if (c.family === 6 && c.prefix < 127) return { first: 1n, last: c.size - 1n };
  return { first: 0n, last: c.size - 1n };
}
