import type { LinuxSpec } from '@qnet/contracts';
import { cidrContainsIp, isMac, normalizeMac, parseCidr } from '@qnet/netaddr';
import { cidr, int, ifname, ip, list, obj, optional, SpecReader, unique } from '../spec-reader.js';

export const DEFAULT_MTU = 1500;
const NETNS_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function mac(v: unknown, r: SpecReader): string {
  if (typeof v !== 'string' || !isMac(v)) r.fail('must be a MAC address');
  return normalizeMac(v);
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

  const all = [...bridges, ...taps, ...veths, ...vxlans].map((d) => ({ name: d.name }));
  unique(all, (d) => d.name, R('interfaces'));
  unique(vxlans, (x) => String(x.vni), R('vxlans'));
  return { bridges, taps, veths, vxlans };
}
