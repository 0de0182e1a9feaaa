/** A WireGuard key as wg(8) prints it: 32 bytes in standard base64 (44 characters ending in '='). */
export function isWireguardKey(value: unknown): value is string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(value))
    return false;
  return Buffer.from(value, 'base64').length === 32;
}
