import { canonicalIp, isCanonicalCidr, isInterfaceName, isIp } from '@qnet/netaddr';

/**
 * Reading a desired spec from the bus: every check names where in the spec it failed. The path is
 * spelled out only on failure (a spec may hold thousands of fields, each read with its reader).
 */
export class SpecReader {
  constructor(
    private readonly key: string | number,
    private readonly parent?: SpecReader,
  ) {}

  get path(): string {
    if (!this.parent) return String(this.key);
    const base = this.parent.path;
    return typeof this.key === 'number' ? `${base}[${this.key}]` : `${base}.${this.key}`;
  }

  fail(message: string): never {
    throw new Error(`${this.path} ${message}`);
  }

  at(key: string | number): SpecReader {
    return new SpecReader(key, this);
  }
}

export function obj(v: unknown, r: SpecReader): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) r.fail('must be an object');
  return v as Record<string, unknown>;
}

export function list(v: unknown, r: SpecReader): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) r.fail('must be a list');
  return v;
}

export function ifname(v: unknown, r: SpecReader): string {
  if (!isInterfaceName(v)) r.fail('is not a valid interface name');
  return v;
}

export function int(v: unknown, r: SpecReader, min: number, max: number, dflt?: number): number {
  const n = v === undefined ? dflt : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    r.fail(`must be an integer ${min}-${max}`);
  return n;
}

export function ip(v: unknown, r: SpecReader): string {
  if (typeof v !== 'string' || !isIp(v)) r.fail('must be an IP address');
  return canonicalIp(v);
}

export function cidr(v: unknown, r: SpecReader): string {
  if (typeof v !== 'string' || !isCanonicalCidr(v)) r.fail('must be a canonical CIDR');
  return v;
}

export function optional<T>(v: unknown, read: (v: unknown) => T): T | undefined {
  return v === undefined || v === null ? undefined : read(v);
}

export function unique<T>(items: T[], key: (t: T) => string, r: SpecReader): T[] {
  const seen = new Set<string>();
  items.forEach((t, i) => {
    const k = key(t);
    if (seen.has(k)) r.at(i).fail(`repeats ${k}`);
    seen.add(k);
  });
  return items;
}
