import type { LinuxSpec } from '@qnet/contracts';
import { cidrContainsIp, isMac, normalizeMac, parseCidr } from '@qnet/netaddr';
import { cidr, int, ifname, ip, list, obj, optional, SpecReader, unique } from '../spec-reader.js';

export const DEFAULT_MTU = 1500;
const NETNS_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const DNS_LABEL_RE = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function dnsLabel(v: unknown, r: SpecReader): string {
  if (typeof v !== 'string' || !DNS_LABEL_RE.test(v)) r.fail('must be a lower-case DNS label');
  return v;
}

function dnsDomain(v: unknown, r: SpecReader): string {
  if (typeof v !== 'string' || v.length > 253 || !v.split('.').every((l) => DNS_LABEL_RE.test(l)))
    r.fail('must be a lower-case DNS name');
  return v;
}

/** DHCP and DNS of a bridge that carries the network's gateway. */
function dhcp(v: unknown, r: SpecReader, net: string | undefined, gateway: string | undefined) {
  if (!net || !gateway) return r.fail('needs cidr and gateway');
  const c = parseCidr(net);
  const inside = (a: unknown, ar: SpecReader) => {
    const addr = ip(a, ar);
    if (!cidrContainsIp(c, addr)) ar.fail(`must be inside ${net}`);
    return addr;
  };
  const d = obj(v, r);
  return {
    domain: dnsDomain(d.domain, r.at('domain')),
    mtu: int(d.mtu, r.at('mtu'), 68, 65535),
    dns_servers: list(d.dns_servers, r.at('dns_servers')).map((x, j) =>
      ip(x, r.at('dns_servers').at(j)),
    ),
    routes: list(d.routes, r.at('routes')).map((x, j) => {
      const rr = r.at('routes').at(j);
      const o = obj(x, rr);
      return {
        destination: cidr(o.destination, rr.at('destination')),
        gateway: inside(o.gateway, rr.at('gateway')),
      };
    }),
    leases: unique(
      list(d.leases, r.at('leases')).map((x, j) => {
        const lr = r.at('leases').at(j);
        const o = obj(x, lr);
        return {
          mac: mac(o.mac, lr.at('mac')),
          ip: inside(o.ip, lr.at('ip')),
          ...(o.name !== undefined ? { name: dnsLabel(o.name, lr.at('name')) } : {}),
        };
      }),
      (l) => l.mac,
      r.at('leases'),
    ),
    names: list(d.names, r.at('names')).map((x, j) => {
      const nr = r.at('names').at(j);
      const o = obj(x, nr);
      return { ip: inside(o.ip, nr.at('ip')), name: dnsLabel(o.name, nr.at('name')) };
    }),
  };
}

/** A guest port's allowed MAC/address pairs; an address may be a CIDR (allowed address pairs). */
function security(v: unknown, r: SpecReader) {
  const s = obj(v, r);
  const pairs = list(s.pairs, r.at('pairs')).map((x, j) => {
    const pr = r.at('pairs').at(j);
    const o = obj(x, pr);
    const addr = optional(o.ip, (a) =>
      typeof a === 'string' && a.includes('/') ? cidr(a, pr.at('ip')) : ip(a, pr.at('ip')),
    );
    if (addr?.includes(':')) pr.at('ip').fail('must be an IPv4 address or CIDR');
    return { mac: mac(o.mac, pr.at('mac')), ...(addr ? { ip: addr } : {}) };
  });
  if (!pairs.length) r.at('pairs').fail("must name at least the port's own MAC");
  return { pairs };
}

function mac(v: unknown, r: SpecReader): string {
  if (typeof v !== 'string' || !isMac(v)) r.fail('must be a MAC address');
  return normalizeMac(v);
}

function unicastMac(v: unknown, r: SpecReader): string {
  const m = mac(v, r);
  if (parseInt(m.slice(0, 2), 16) & 1) r.fail('must be a unicast MAC address');
  return m;
}

function netns(v: unknown, r: SpecReader): string {
  if (typeof v !== 'string' || !NETNS_RE.test(v)) r.fail('must be a namespace name [A-Za-z0-9_.-]');
  return v;
}

/** A bridge network's CIDR, its gateway on the bridge (address/prefix inside it) and NAT. */
function bridgeL3(b: Record<string, unknown>, r: SpecReader) {
  const net = optional(b.cidr, (c) => cidr(c, r.at('cidr')));
  const gateway = optional(b.gateway, (g) => {
    const gr = r.at('gateway');
    if (!net) return gr.fail('needs cidr');
    const [addr, prefix] = typeof g === 'string' ? g.split('/') : [];
    const c = parseCidr(net);
    const address = addr ? ip(addr, gr) : undefined;
    if (!address || prefix !== String(c.prefix) || !cidrContainsIp(c, address))
      gr.fail(`must be an address inside ${net} with its prefix, e.g. 10.0.0.1/24`);
    return `${address}/${prefix}`;
  });
  if (b.nat === true && !gateway) r.at('nat').fail('needs a gateway');
  return {
    ...(net ? { cidr: net } : {}),
    ...(gateway ? { gateway } : {}),
    ...(b.nat === true ? { nat: true } : {}),
    ...(b.dhcp !== undefined ? { dhcp: dhcp(b.dhcp, r.at('dhcp'), net, gateway) } : {}),
  };
}

/** Validates a desired `linux` spec from the bus. Nothing reaches ip(8) or bridge(8) unchecked. */
export function parseLinuxSpec(spec: unknown): LinuxSpec {
  const root = obj(spec ?? {}, new SpecReader('spec'));
  const R = (k: string) => new SpecReader(k);

  const bridges = list(root.bridges, R('bridges')).map((v, i) => {
    const r = R('bridges').at(i);
    const b = obj(v, r);
    return {
      name: ifname(b.name, r.at('name')),
      mtu: int(b.mtu, r.at('mtu'), 68, 65535, DEFAULT_MTU),
      vlan_filtering: b.vlan_filtering === true,
      uplink: optional(b.uplink, (u) => ifname(u, r.at('uplink'))),
      mac: optional(b.mac, (m) => unicastMac(m, r.at('mac'))),
      ...bridgeL3(b, r),
    };
  });
  const bridgeNames = new Set(bridges.map((b) => b.name));
  const bridgeRef = (v: unknown, r: SpecReader) => {
    const name = ifname(v, r);
    if (!bridgeNames.has(name)) r.fail(`names bridge ${name}, which is not in bridges`);
    return name;
  };

  const taps = list(root.taps, R('taps')).map((v, i) => {
    const r = R('taps').at(i);
    const t = obj(v, r);
    return {
      name: ifname(t.name, r.at('name')),
      bridge: bridgeRef(t.bridge, r.at('bridge')),
      mtu: int(t.mtu, r.at('mtu'), 68, 65535, DEFAULT_MTU),
      vlan_id: optional(t.vlan_id, (x) => int(x, r.at('vlan_id'), 1, 4094)),
      security: optional(t.security, (x) => security(x, r.at('security'))),
    };
  });

  const veths = list(root.veths, R('veths')).map((v, i) => {
    const r = R('veths').at(i);
    const t = obj(v, r);
    const pr = r.at('peer');
    const p = obj(t.peer, pr);
    return {
      name: ifname(t.name, r.at('name')),
      bridge: bridgeRef(t.bridge, r.at('bridge')),
      mtu: int(t.mtu, r.at('mtu'), 68, 65535, DEFAULT_MTU),
      vlan_id: optional(t.vlan_id, (x) => int(x, r.at('vlan_id'), 1, 4094)),
      security: optional(t.security, (x) => security(x, r.at('security'))),
      peer: {
        netns: netns(p.netns, pr.at('netns')),
        name: ifname(p.name, pr.at('name')),
        mac: mac(p.mac, pr.at('mac')),
        address: optional(p.address, (a) => {
          try {
            const c = parseCidr(String(a), false);
            return `${ip(String(a).split('/')[0], pr.at('address'))}/${c.prefix}`;
          } catch {
            return pr.at('address').fail('must be address/prefix');
          }
        }),
        gateway: optional(p.gateway, (g) => ip(g, pr.at('gateway'))),
      },
    };
  });

  const vxlans = list(root.vxlans, R('vxlans')).map((v, i) => {
    const r = R('vxlans').at(i);
    const x = obj(v, r);
    return {
      name: ifname(x.name, r.at('name')),
      vni: int(x.vni, r.at('vni'), 1, 16_777_215),
      bridge: bridgeRef(x.bridge, r.at('bridge')),
      local: ip(x.local, r.at('local')),
      port: int(x.port, r.at('port'), 1, 65535, 4789),
      mtu: int(x.mtu, r.at('mtu'), 68, 65535, DEFAULT_MTU),
      flood: unique(
        list(x.flood, r.at('flood')).map((f, j) => ip(f, r.at('flood').at(j))),
        (f) => f,
        r.at('flood'),
      ),
      fdb: unique(
        list(x.fdb, r.at('fdb')).map((e, j) => {
          const er = r.at('fdb').at(j);
          const o = obj(e, er);
          return { mac: mac(o.mac, er.at('mac')), dst: ip(o.dst, er.at('dst')) };
        }),
        (e) => e.mac,
        r.at('fdb'),
      ),
      neigh: unique(
        list(x.neigh, r.at('neigh')).map((e, j) => {
          const er = r.at('neigh').at(j);
          const o = obj(e, er);
          return {
            ip: ip(o.ip, er.at('ip')),
            mac: mac(o.mac, er.at('mac')),
            ...(o.announce === true ? { announce: true } : {}),
          };
        }),
        (e) => e.ip,
        r.at('neigh'),
      ),
    };
  });

  const routes = unique(
    list(root.routes, R('routes')).map((v, i) => {
      const r = R('routes').at(i);
      const o = obj(v, r);
      const destination = cidr(o.destination, r.at('destination'));
      if (!destination.endsWith('/32')) r.at('destination').fail('must be one IPv4 address, a /32');
      return { destination, via: ip(o.via, r.at('via')) };
    }),
    (route) => route.destination,
    R('routes'),
  );

  const all = [...bridges, ...taps, ...veths, ...vxlans].map((d) => ({ name: d.name }));
  unique(all, (d) => d.name, R('interfaces'));
  unique(vxlans, (x) => String(x.vni), R('vxlans'));
  return { bridges, taps, veths, vxlans, routes };
}
