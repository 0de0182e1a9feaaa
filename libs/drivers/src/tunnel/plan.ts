import {
  TUNNEL_DEVICE_ALIAS,
  TUNNEL_ROUTE_PROTO,
  type TunnelEndpointSpec,
  type TunnelRouterSpec,
  type TunnelSpec,
} from '@qnet/contracts';
import { DOCUMENT, type Change } from '../driver.js';
import { planForwarding } from '../forwarding.js';
import { planTable } from '../nft.js';
import { planPeers } from '../wireguard/peers.js';
import { layoutEndpoint, type EndpointLayout, type Slot } from './layout.js';
import { TUNNEL_TABLE, type TunnelLink, type TunnelObservedHost } from './observed.js';
import { renderEndpointWgConf, renderRouterWgConf, renderTunnelTableBody } from './render.js';

/** What a plan needs besides the spec: the host's own key and, on a routing server, its egress. */
export interface TunnelHost {
  privateKey: string;
  egressInterface: string;
}

const ANY = '0.0.0.0/0,::/0';
const sorted = (xs: readonly string[]) => [...xs].sort().join(',');
const hostRoute = (ip: string) => `${ip}/${ip.includes(':') ? 128 : 32}`;
const PROTO = ['proto', TUNNEL_ROUTE_PROTO];

/** A device name a plan can use: absent, or a WireGuard device. */
export const usable = (o: TunnelObservedHost, name: string): boolean =>
  o.links.find((l) => l.name === name)?.wireguard !== false;

/**
 * A WireGuard device as wanted: created (a wireguard-go process where the kernel has no module),
 * marked ours, its keys and peers brought to what is wanted (`sync`), its addresses, MTU, state.
 */
function device(
  name: string,
  link: TunnelLink | undefined,
  want: { sync: (link: TunnelLink | undefined) => Change[]; addresses: string[]; mtu: number },
  kernel: boolean,
): Change[] {
  const changes: Change[] = [];
  if (!link)
    changes.push(
      kernel ? ['ip', 'link', 'add', name, 'type', 'wireguard'] : ['wireguard-go', name],
    );
  if (link?.alias !== TUNNEL_DEVICE_ALIAS)
    changes.push(['ip', 'link', 'set', 'dev', name, 'alias', TUNNEL_DEVICE_ALIAS]);
  changes.push(...want.sync(link));
  for (const a of link?.addresses ?? [])
    if (!want.addresses.includes(a)) changes.push(['ip', 'address', 'del', a, 'dev', name]);
  for (const a of want.addresses)
    if (!link?.addresses.includes(a))
      changes.push([
        'ip',
        'address',
        'replace',
        a,
        'dev',
        name,
        ...(a.includes(':') ? ['nodad'] : []),
      ]);
  if (link?.mtu !== want.mtu)
    changes.push(['ip', 'link', 'set', 'dev', name, 'mtu', String(want.mtu)]);
  if (!link?.up) changes.push(['ip', 'link', 'set', 'dev', name, 'up']);
  return changes;
}

const syncconf = (name: string, document: string): Change => ({
  argv: ['wg', 'syncconf', name, DOCUMENT],
  document,
});

/**
 * A router's listener: configured whole when it is created, after that only what differs — its
 * key or port, and the peers that come, go or change — so that one endpoint's change never
 * touches another's session.
 */
function planRouter(r: TunnelRouterSpec, o: TunnelObservedHost, host: TunnelHost): Change[] {
  const sync = (link: TunnelLink | undefined): Change[] => {
    if (!link) return [syncconf(r.interface_name, renderRouterWgConf(r, host.privateKey))];
    const changes: Change[] = [];
    if (link.private_key !== host.privateKey || link.listen_port !== r.listen_port)
      changes.push({
        argv: [
          'wg',
          'set',
          r.interface_name,
          'private-key',
          DOCUMENT,
          'listen-port',
          String(r.listen_port),
        ],
        document: host.privateKey,
      });
    const peers = r.peers.map((p) => ({
      public_key: p.public_key,
      preshared_key: p.preshared_key,
      allowed_ips: [`${p.ipv4}/32`, `${p.ipv6}/128`],
    }));
    return [...changes, ...planPeers(r.interface_name, link.peers, peers)];
  };
  return [
    ...device(
      r.interface_name,
      o.links.find((l) => l.name === r.interface_name),
      { sync, addresses: [r.ipv4, r.ipv6], mtu: r.mtu },
      o.kernel,
    ),
    ...planForwarding({ v4: true, v6: true }, o.forwarding),
    ...planTable(TUNNEL_TABLE, renderTunnelTableBody(r, host.egressInterface), o.table),
  ];
}

/** The router (public key) each of an endpoint's devices holds now, and which carries its routes. */
export function slotsNow(e: TunnelEndpointSpec, o: TunnelObservedHost) {
  const keys = e.interface_names.map((name) => {
    const l = o.links.find((x) => x.name === name && x.wireguard);
    return l?.peers.length === 1 ? l.peers[0]!.public_key : undefined;
  }) as [string | undefined, string | undefined];
  const carrying = o.routes.find((r) => e.routes.includes(r.dst))?.dev;
  const at = carrying === undefined ? -1 : e.interface_names.indexOf(carrying);
  return { keys, routesOn: at >= 0 ? at : undefined };
}

export function endpointLayout(e: TunnelEndpointSpec, o: TunnelObservedHost): EndpointLayout {
  return layoutEndpoint(e, slotsNow(e, o), (k) => o.health.get(k) ?? null, o.avoided);
}

/** What an endpoint's plan keeps: its devices, and its owned routes as `dst dev`. */
interface Kept {
  devices: Set<string>;
  routes: Set<string>;
}

const routeKey = (dst: string, dev: string) => `${dst} ${dev}`;

/**
 * An endpoint's plan, ordered for make-before-break: the tunnel that is to carry the routes is
 * made ready first, then the routes move to it, then the other tunnel is given its router. With
 * no router at all the routes become unreachable: traffic for them never leaves untunnelled.
 */
function planEndpoint(
  e: TunnelEndpointSpec,
  o: TunnelObservedHost,
  host: TunnelHost,
  kept: Kept,
): Change[] {
  const layout = endpointLayout(e, o);
  const slot = (s: Slot): Change[] => {
    if (s.key !== undefined) kept.devices.add(s.name);
    const r = s.router;
    if (!r) {
      // Draining: it keeps the routes it had to its old router until the routes leave it.
      if (s.key !== undefined)
        for (const x of o.routes) if (x.dev === s.name) kept.routes.add(routeKey(x.dst, x.dev));
      return [];
    }
    if (!usable(o, s.name)) return [];
    const same = (l: TunnelLink) => {
      const p = l.peers[0];
      return (
        l.private_key === host.privateKey &&
        l.peers.length === 1 &&
        p!.public_key === r.public_key &&
        p!.preshared_key === e.preshared_key &&
        p!.endpoint === r.endpoint &&
        sorted(p!.allowed_ips) === ANY &&
        p!.persistent_keepalive === e.keepalive_s
      );
    };
    const routes = [r.ipv4, r.ipv6].map(hostRoute);
    routes.forEach((dst) => kept.routes.add(routeKey(dst, s.name)));
    // One peer, the tunnel's router: a tunnel given another router is configured whole.
    const sync = (l: TunnelLink | undefined) =>
      l && same(l) ? [] : [syncconf(s.name, renderEndpointWgConf(e, r, host.privateKey))];
    return [
      ...device(
        s.name,
        o.links.find((l) => l.name === s.name),
        { sync, addresses: [`${e.ipv4}/32`, `${e.ipv6}/128`], mtu: e.mtu },
        o.kernel,
      ),
      ...routes
        .filter((dst) => !o.routes.some((x) => x.dst === dst && x.dev === s.name))
        .map((dst) => ['ip', 'route', 'replace', dst, 'dev', s.name, ...PROTO]),
    ];
  };

  const target = layout.target === undefined ? undefined : layout.slots[layout.target];
  const other = layout.target === undefined ? layout.slots : [layout.slots[1 - layout.target]!];
  const changes: Change[] = target ? slot(target) : [];
  const dev = target && usable(o, target.name) ? target.name : '';
  for (const cidr of e.routes) {
    kept.routes.add(routeKey(cidr, dev));
    if (o.routes.some((x) => x.dst === cidr && x.dev === dev)) continue;
    changes.push(
      dev
        ? [
            'ip',
            'route',
            'replace',
            cidr,
            'dev',
            dev,
            'src',
            cidr.includes(':') ? e.ipv6 : e.ipv4,
            ...PROTO,
          ]
        : ['ip', 'route', 'replace', 'unreachable', cidr, ...PROTO],
    );
  }
  for (const s of other) changes.push(...slot(s));
  return changes;
}

/**
 * The host's tunnels against what it holds. What the spec no longer wants goes last: owned routes
 * it does not keep, owned devices it does not keep, and the router's table.
 */
export function planTunnel(spec: TunnelSpec, o: TunnelObservedHost, host: TunnelHost): Change[] {
  const kept: Kept = { devices: new Set(), routes: new Set() };
  const changes: Change[] = [];
  if (spec.router) {
    changes.push(...planRouter(spec.router, o, host));
    kept.devices.add(spec.router.interface_name);
  }
  if (spec.endpoint) changes.push(...planEndpoint(spec.endpoint, o, host, kept));
  // A kept destination's route was replaced in place (`route replace`), whatever its device.
  const keptDst = new Set([...kept.routes].map((k) => k.split(' ')[0]));
  for (const r of o.routes)
    if (!keptDst.has(r.dst))
      changes.push(['ip', 'route', 'del', r.dst, ...(r.dev ? ['dev', r.dev] : []), ...PROTO]);
  for (const l of o.links)
    if (l.alias === TUNNEL_DEVICE_ALIAS && !kept.devices.has(l.name))
      changes.push(['ip', 'link', 'del', 'dev', l.name]);
  if (!spec.router) changes.push(...planTable(TUNNEL_TABLE, '', o.table));
  return changes;
}
