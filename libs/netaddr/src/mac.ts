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
