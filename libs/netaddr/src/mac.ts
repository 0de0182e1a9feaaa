import { randomBytes } from 'node:crypto';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lower-case, colon-separated form; accepts "-" separators and upper case. */
export function normalizeMac(text: string): string {
  return text.trim().toLowerCase().replace(/-/g, ':');
}

export function isMac(text: string): boolean {
  return typeof text === 'string' && MAC_RE.test(normalizeMac(text));
}

/** Unicast (I/G bit clear): a multicast MAC cannot be a NIC's address. */
export function isUnicastMac(text: string): boolean {
  return isMac(text) && (parseInt(normalizeMac(text).slice(0, 2), 16) & 1) === 0;
}

/**
 * A random locally administered unicast MAC (U/L bit set, I/G bit clear).
 * `prefix` pins the first bytes, e.g. "aa:fc" as Firecracker does.
 */
export function randomLocalMac(prefix = ''): string {
  const fixed = prefix ? normalizeMac(prefix).split(':') : [];
  const bytes = [...randomBytes(6)].map((b) => b.toString(16).padStart(2, '0'));
  fixed.forEach((b, i) => (bytes[i] = b));
  const first = (parseInt(bytes[0]!, 16) | 0x02) & 0xfe;
  bytes[0] = first.toString(16).padStart(2, '0');
  return bytes.join(':');
}

/**
 * The IPv6 link-local address a host derives from a MAC (modified EUI-64, RFC 4291 appendix A:
 * U/L bit flipped, ff:fe in the middle), as its 8 groups of 16 bits.
 */
function eui64Groups(mac: string): number[] {
  const b = normalizeMac(mac)
    .split(':')
    .map((x) => parseInt(x, 16));
  const id = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  return [0xfe80, 0, 0, 0, ...[0, 2, 4, 6].map((i) => (id[i]! << 8) | id[i + 1]!)];
}

/**
 * That link-local address in its canonical text form (RFC 5952), e.g. fe80::ff:fe00:a for
 * 02:00:00:00:00:0a. Written out, not parsed back: a port's filter lists one per MAC on every
 * change. The interface id's middle groups (xxff, fexx) are never 0, so the longest run of zeros is
 * groups 1–3, with the 4th when it is 0: the one "::".
 */
export function eui64LinkLocal(mac: string): string {
  const [, , , , first, ...rest] = eui64Groups(mac);
  return `fe80::${[...(first ? [first] : []), ...rest].map((x) => x.toString(16)).join(':')}`;
}

/** The same address as one 128-bit hexadecimal number (how nft compares raw header fields). */
export function eui64LinkLocalHex(mac: string): string {
  return `0x${eui64Groups(mac)
    .map((x) => x.toString(16).padStart(4, '0'))
    .join('')}`;
}
