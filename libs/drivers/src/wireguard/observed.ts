import type { WireguardPeerObserved } from '@qnet/contracts';

export interface ObservedWgPeer extends WireguardPeerObserved {
  preshared_key?: string;
  allowed_ips: string[];
  /** Seconds; 0 = off. */
  persistent_keepalive: number;
}

export interface ObservedWgInterface {
  name: string;
  up: boolean;
  addresses: string[];
  private_key: string;
  public_key: string;
  listen_port: number;
  peers: ObservedWgPeer[];
}

const none = (v: string | undefined) => (v === undefined || v === '(none)' ? undefined : v);

/** `wg show <if> dump`: the interface line, then one tab-separated line per peer. */
export function parseWgDump(
  stdout: string,
): Omit<ObservedWgInterface, 'name' | 'up' | 'addresses'> {
  const [head = '', ...rest] = stdout.split('\n').filter((l) => l.trim());
  const [privateKey = '', publicKey = '', port = '0'] = head.split('\t');
  return {
    private_key: privateKey,
    public_key: publicKey,
    listen_port: Number(port),
    peers: rest.map((line) => {
      const [pub = '', psk, endpoint, allowed, handshake, rx, tx, keepalive] = line.split('\t');
      return {
        public_key: pub,
        preshared_key: none(psk),
        endpoint: none(endpoint) ?? '',
        allowed_ips: none(allowed)?.split(',') ?? [],
        latest_handshake: Number(handshake ?? 0),
        rx_bytes: Number(rx ?? 0),
        tx_bytes: Number(tx ?? 0),
        persistent_keepalive: Number(keepalive) || 0, // 'off' → 0
      };
    }),
  };
}
