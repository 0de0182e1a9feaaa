/**
 * Desired state of the node agent's `tunnel` driver for one host (seed 004's data plane),
 * rendered by the device controller: a routing server's listener with a peer for every endpoint
 * whose decision names it, or an endpoint's two tunnels to its primary and backup routers.
 * It carries pre-shared keys, so it travels only on the host's own command subject and inbox;
 * it never carries the host's private key, which the agent made and keeps (0600).
 */
export interface TunnelSpec {
  router?: TunnelRouterSpec;
  endpoint?: TunnelEndpointSpec;
}

export interface TunnelRouterSpec {
  interface_name: string;
  listen_port: number;
  mtu: number;
  /** The router's tunnel addresses with the pools' covering prefixes: 10.10.100.1/24, fd00:100::1/112. */
  ipv4: string;
  ipv6: string;
  peers: TunnelRouterPeer[];
}

/** An endpoint as a router's peer: it may send only from its own tunnel addresses. */
export interface TunnelRouterPeer {
  endpoint_id: string;
  public_key: string;
  preshared_key: string;
  ipv4: string;
  ipv6: string;
}

export interface TunnelEndpointSpec {
  /** The two tunnel devices, e.g. tun0 and tun1: each holds one router. */
  interface_names: [string, string];
  mtu: number;
  keepalive_s: number;
  /** The endpoint's own tunnel addresses (bare). */
  ipv4: string;
  ipv6: string;
  /** What is routed through the active tunnel (seed 004's tunnel.routes). */
  routes: string[];
  /** Health probes through each tunnel to its router's tunnel address. */
  probe_interval_ms: number;
  probe_misses: number;
  /** The endpoint's PSK: the WireGuard preshared key of both its tunnels. */
  preshared_key: string;
  /** The primary first, then the backup when there is one. */
  routers: TunnelEndpointRouter[];
}

export interface TunnelEndpointRouter {
  router_id: string;
  role: TunnelRole;
  public_key: string;
  /** Where its listener is: 192.0.2.2:51820 or [2001:db8::2]:51820. */
  endpoint: string;
  ipv4: string;
  ipv6: string;
}

export type TunnelRole = 'primary' | 'backup';

/** What the agent reports on qnet.agent.<host>.status.tunnel (observed): no key but public ones. */
export interface TunnelObserved {
  router?: TunnelRouterObserved;
  endpoint?: TunnelEndpointObserved;
}

export interface TunnelRouterObserved {
  interface_name: string;
  listen_port: number;
  peers: TunnelPeerObserved[];
  /** Peers with a handshake within the last WireGuard session lifetime (180 s). */
  active_peers: number;
}

export interface TunnelPeerObserved {
  endpoint_id: string;
  endpoint: string;
  /** Unix seconds; 0 = never. */
  latest_handshake: number;
  rx_bytes: number;
  tx_bytes: number;
}

export interface TunnelEndpointObserved {
  tunnels: TunnelObservedTunnel[];
  /** The router whose tunnel carries the routes now ('' when none does). */
  active_router_id: string;
  /** Routers this endpoint moved its routes away from because their tunnel stopped answering. */
  failed_router_ids: string[];
  /** Local failovers since the agent started. */
  failovers: number;
}

export interface TunnelObservedTunnel {
  interface_name: string;
  router_id: string;
  role: TunnelRole | 'draining';
  /** Answering its probes; null before the first verdict. */
  up: boolean | null;
  carries_routes: boolean;
  latest_handshake: number;
  rx_bytes: number;
  tx_bytes: number;
  /** Round-trip time of the last probe answered, in ms. */
  rtt_ms: number | null;
}

export const TUNNEL_DRIVER = 'tunnel';
/** The nftables table a routing server's agent owns (NAT out of its egress, forwarding policy). */
export const TUNNEL_NFT_TABLE = 'qnet_tunnel';
/** Routes the tunnel driver owns carry this protocol number (routed overlays use 113). */
export const TUNNEL_ROUTE_PROTO = '114';
/** ifalias of the tunnel devices the agent made: only those are ever removed. */
export const TUNNEL_DEVICE_ALIAS = 'qnet-tunnel';
