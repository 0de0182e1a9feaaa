import { QnetError, type DeviceConfigDocument, type DeviceType } from '@qnet/contracts';
import { cidrsOverlap, isInterfaceName, parseCidr } from '@qnet/netaddr';
import { addressOf, coveringPrefix, secondTunnelName, type AddressPool } from './pools.js';

/** Settings only an endpoint has (a router's endpoints route, probe and keep alive). */
const ENDPOINT_ONLY = [
  'routes',
  'keepalive_interval',
  'probe_interval_ms',
  'probe_misses',
] as const;

/**
 * What the field validators cannot say because it depends on the device's type: a router listens
 * (port) and an endpoint routes; an endpoint's two device names; routes that could not work.
 */
export function checkTunnelConfig(
  type: DeviceType,
  config: DeviceConfigDocument,
  pools: { v4: AddressPool; v6: AddressPool },
): void {
  const t = config.tunnel;
  if (!t) return;
  const field = (f: string) => `config.tunnel.${f}`;
  if (type === 'routing_server') {
    for (const f of ENDPOINT_ONLY)
      if (t[f] !== undefined)
        throw QnetError.invalid(field(f), 'applies to endpoints only, not to a routing server');
    return;
  }
  if (t.port !== undefined)
    throw QnetError.invalid(
      field('port'),
      "is a routing server's listen port: an endpoint reaches each router on the router's own",
    );
  if (t.interface_name !== undefined) {
    const second = /\d$/.test(t.interface_name) ? secondTunnelName(t.interface_name) : '';
    if (!isInterfaceName(second))
      throw QnetError.invalid(
        field('interface_name'),
        'must end in a number, its second tunnel being numbered one more within 15 characters (tun0 and tun1)',
      );
  }
  const tunnelPools = [pools.v4, pools.v6].map((p) =>
    parseCidr(`${addressOf(p, 0)}/${coveringPrefix(p)}`, false),
  );
  for (const route of t.routes ?? []) {
    const c = parseCidr(route);
    if (c.prefix === 0)
      throw QnetError.invalid(
        field('routes'),
        `${route} is a default route: it would carry the tunnels' own packets; name the networks behind the routers`,
      );
    if (tunnelPools.some((p) => cidrsOverlap(p, c)))
      throw QnetError.invalid(field('routes'), `${route} overlaps the tunnel address pools`);
  }
}
