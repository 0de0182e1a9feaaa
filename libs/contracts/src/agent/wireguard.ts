/**
 * Desired state of the node agent's `wireguard` driver for one host, rendered by the vpn service
 * (full state). It carries the gateways' private keys: it travels only on the host's own command
 * subject and its inbox, which no other NATS user may read, and the agent hands keys to wg(8) in
 * a 0600 file that exists only while `wg syncconf` runs — never on a command line.
 */
export interface WireguardSpec {
  interfaces: WireguardInterface[];
}

export interface WireguardInterface {
  /** qwg…, at most 15 characters. */
  name: string;
  private_key: string;
  listen_port: number;
  /** The gateway's address in the client pool, with the pool's prefix: 10.99.0.1/24. */
  address: string;
  /** What clients may reach through this gateway (forwarding is dropped elsewhere). */
  local_subnets: string[];
  peers: WireguardPeer[];
}

export interface WireguardPeer {
  public_key: string;
  preshared_key?: string;
  /** The client's one address (/32 or /128): WireGuard drops anything else it sends. */
  allowed_ip: string;
}

/** What the agent reports of each interface on qnet.agent.<host>.status.wireguard (observed). */
export interface WireguardObserved {
  interfaces: {
    name: string;
    public_key: string;
    listen_port: number;
    peers: WireguardPeerObserved[];
  }[];
}

export interface WireguardPeerObserved {
  public_key: string;
  endpoint: string;
  /** Unix seconds; 0 = never. */
  latest_handshake: number;
  rx_bytes: number;
  tx_bytes: number;
}

export const WIREGUARD_INTERFACE_PREFIX = 'qwg';
/** The nftables table the agent owns for VPN isolation and NAT (it never touches others' tables). */
export const WIREGUARD_NFT_TABLE = 'qnet_vpn';
