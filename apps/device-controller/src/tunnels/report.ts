import type {
  TopologyEdgeView,
  TunnelEndpointObserved,
  TunnelObserved,
  TunnelObservedTunnel,
  TunnelPeerObserved,
  TunnelRouterObserved,
} from '@qnet/contracts';
import { isInterfaceName, isSubjectToken } from '@qnet/netaddr';

const MAX_ITEMS = 4096;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v.slice(0, MAX_ITEMS) : []);
const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const ids = (v: unknown) => list(v).filter(isSubjectToken).slice(0, 16);
const text = (v: unknown, max = 64) => (typeof v === 'string' ? v.slice(0, max) : '');

/**
 * An agent's `tunnel` report as stored and shown: only the fields the contract names, of their
 * types, bounded — it comes from a host, and other tenants' consoles read it.
 */
export function cleanReport(observed: unknown): TunnelObserved | undefined {
  const o = rec(observed);
  if (o.router !== undefined) {
    const r = rec(o.router);
    const router: TunnelRouterObserved = {
      interface_name: isInterfaceName(r.interface_name) ? r.interface_name : '',
      listen_port: num(r.listen_port),
      active_peers: num(r.active_peers),
      peers: list(r.peers).flatMap((x): TunnelPeerObserved[] => {
        const p = rec(x);
        return isSubjectToken(p.endpoint_id)
          ? [
              {
                endpoint_id: p.endpoint_id,
                endpoint: text(p.endpoint),
                latest_handshake: num(p.latest_handshake),
                rx_bytes: num(p.rx_bytes),
                tx_bytes: num(p.tx_bytes),
              },
            ]
          : [];
      }),
    };
    return { router };
  }
  if (o.endpoint !== undefined) {
    const e = rec(o.endpoint);
    const endpoint: TunnelEndpointObserved = {
      active_router_id: isSubjectToken(e.active_router_id) ? e.active_router_id : '',
      failed_router_ids: ids(e.failed_router_ids),
      failovers: num(e.failovers),
      tunnels: list(e.tunnels)
        .slice(0, 2)
        .flatMap((x): TunnelObservedTunnel[] => {
          const t = rec(x);
          if (!isSubjectToken(t.router_id) || !isInterfaceName(t.interface_name)) return [];
          return [
            {
              interface_name: t.interface_name,
              router_id: t.router_id,
              role: t.role === 'primary' || t.role === 'backup' ? t.role : 'draining',
              up: typeof t.up === 'boolean' ? t.up : null,
              carries_routes: t.carries_routes === true,
              latest_handshake: num(t.latest_handshake),
              rx_bytes: num(t.rx_bytes),
              tx_bytes: num(t.tx_bytes),
              rtt_ms: typeof t.rtt_ms === 'number' ? num(t.rtt_ms) : null,
            },
          ];
        }),
    };
    return { endpoint };
  }
  return undefined;
}

/**
 * What the reports say of one endpoint → router tunnel: the endpoint's own view (does it answer,
 * does it carry the routes, its handshake), else the router's view of its handshake.
 */
export function liveEdge(
  endpoint: TunnelObserved | undefined,
  router: TunnelObserved | undefined,
  endpointId: string,
  routerId: string,
  nowS: number,
): Pick<TopologyEdgeView, 'up' | 'carries_routes' | 'handshake_age_s'> {
  const age = (t: number | undefined) => (t ? Math.max(0, Math.round(nowS - t)) : null);
  const tunnel = endpoint?.endpoint?.tunnels.find((t) => t.router_id === routerId);
  if (tunnel)
    return {
      up: tunnel.up,
      carries_routes: tunnel.carries_routes,
      handshake_age_s: age(tunnel.latest_handshake),
    };
  const peer = router?.router?.peers.find((p) => p.endpoint_id === endpointId);
  return { up: null, carries_routes: false, handshake_age_s: age(peer?.latest_handshake) };
}
