import type {
  TunnelEndpointRouter,
  TunnelEndpointSpec,
  TunnelRouterPeer,
  TunnelRouterSpec,
  TunnelSpec,
} from '@qnet/contracts';
import { ipFamily, isSubjectToken, isWireguardKey, parseCidr } from '@qnet/netaddr';
import { cidr, ifname, int, ip, list, obj, optional, SpecReader, unique } from '../spec-reader.js';

function key(v: unknown, r: SpecReader): string {
  if (!isWireguardKey(v)) r.fail('must be a WireGuard key (32 bytes, base64)');
  return v;
}

function id(v: unknown, r: SpecReader): string {
  if (!isSubjectToken(v)) r.fail('must be a device id');
  return v;
}

function ipOf(family: 4 | 6, v: unknown, r: SpecReader): string {
  const a = ip(v, r);
  if (ipFamily(a) !== family) r.fail(`must be an IPv${family} address`);
  return a;
}

/** address/prefix of one family, e.g. 10.10.100.1/24. */
function hostWithPrefix(family: 4 | 6, v: unknown, r: SpecReader): string {
  const [addr, len] = typeof v === 'string' ? v.split('/') : [];
  if (len === undefined) r.fail('must be address/prefix');
  const a = ipOf(family, addr, r);
  try {
    return `${a}/${parseCidr(String(v), false).prefix}`;
  } catch {
    return r.fail('must be address/prefix');
  }
}

/** host:port or [v6]:port: where a router's listener is. */
function udpEndpoint(v: unknown, r: SpecReader): string {
  const m = typeof v === 'string' ? /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(v) : null;
  if (!m) r.fail('must be address:port ([address]:port for IPv6)');
  const address = ip(m[1] ?? m[2], r);
  const port = int(Number(m[3]), r, 1, 65535);
  if ((m[1] !== undefined) !== (ipFamily(address) === 6)) r.fail('brackets an IPv6 address only');
  return m[1] !== undefined ? `[${address}]:${port}` : `${address}:${port}`;
}

function parseRouter(v: unknown, r: SpecReader): TunnelRouterSpec {
  const o = obj(v, r);
  const pr = r.at('peers');
  const peers = list(o.peers, pr).map((p, i): TunnelRouterPeer => {
    const q = obj(p, pr.at(i));
    return {
      endpoint_id: id(q.endpoint_id, pr.at(i).at('endpoint_id')),
      public_key: key(q.public_key, pr.at(i).at('public_key')),
      preshared_key: key(q.preshared_key, pr.at(i).at('preshared_key')),
      ipv4: ipOf(4, q.ipv4, pr.at(i).at('ipv4')),
      ipv6: ipOf(6, q.ipv6, pr.at(i).at('ipv6')),
    };
  });
  for (const field of ['endpoint_id', 'public_key', 'ipv4', 'ipv6'] as const)
    unique(peers, (p) => p[field], pr);
  return {
    interface_name: ifname(o.interface_name, r.at('interface_name')),
    listen_port: int(o.listen_port, r.at('listen_port'), 1, 65535),
    mtu: int(o.mtu, r.at('mtu'), 1280, 9000),
    ipv4: hostWithPrefix(4, o.ipv4, r.at('ipv4')),
    ipv6: hostWithPrefix(6, o.ipv6, r.at('ipv6')),
    peers,
  };
}

function parseEndpoint(v: unknown, r: SpecReader): TunnelEndpointSpec {
  const o = obj(v, r);
  const nr = r.at('interface_names');
  const names = list(o.interface_names, nr).map((n, i) => ifname(n, nr.at(i)));
  if (names.length !== 2 || names[0] === names[1]) nr.fail('must name two different devices');
  const rr = r.at('routers');
  const routers = list(o.routers, rr).map((x, i): TunnelEndpointRouter => {
    const q = obj(x, rr.at(i));
    const role = i === 0 ? 'primary' : 'backup';
    if (q.role !== role) rr.at(i).at('role').fail(`must be ${role} (the primary comes first)`);
    return {
      router_id: id(q.router_id, rr.at(i).at('router_id')),
      role,
      public_key: key(q.public_key, rr.at(i).at('public_key')),
      endpoint: udpEndpoint(q.endpoint, rr.at(i).at('endpoint')),
      ipv4: ipOf(4, q.ipv4, rr.at(i).at('ipv4')),
      ipv6: ipOf(6, q.ipv6, rr.at(i).at('ipv6')),
    };
  });
  if (routers.length > 2) rr.fail('must hold at most a primary and a backup');
  for (const field of ['router_id', 'public_key', 'ipv4'] as const)
    unique(routers, (x) => x[field], rr);
  const routes = list(o.routes, r.at('routes')).map((c, i) => {
    const text = cidr(c, r.at('routes').at(i));
    if (parseCidr(text).prefix === 0) r.at('routes').at(i).fail('must not be a default route');
    return text;
  });
  return {
    interface_names: [names[0]!, names[1]!],
    mtu: int(o.mtu, r.at('mtu'), 1280, 9000),
    keepalive_s: int(o.keepalive_s, r.at('keepalive_s'), 1, 3600),
    ipv4: ipOf(4, o.ipv4, r.at('ipv4')),
    ipv6: ipOf(6, o.ipv6, r.at('ipv6')),
    routes: unique(routes, (c) => c, r.at('routes')),
    probe_interval_ms: int(o.probe_interval_ms, r.at('probe_interval_ms'), 5, 10_000),
    probe_misses: int(o.probe_misses, r.at('probe_misses'), 1, 100),
    preshared_key: key(o.preshared_key, r.at('preshared_key')),
    routers,
  };
}

/** Validates a desired `tunnel` spec from the bus: nothing reaches wg(8), ip(8) or nft(8) unchecked. */
export function parseTunnelSpec(spec: unknown): TunnelSpec {
  const root = new SpecReader('spec');
  const o = obj(spec ?? {}, root);
  const router = optional(o.router, (v) => parseRouter(v, root.at('router')));
  const endpoint = optional(o.endpoint, (v) => parseEndpoint(v, root.at('endpoint')));
  if (router && endpoint) root.fail('is a routing server or an endpoint, not both');
  return { ...(router ? { router } : {}), ...(endpoint ? { endpoint } : {}) };
}
