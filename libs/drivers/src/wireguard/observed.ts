import type { WireguardPeerObserved } from '@qnet/contracts';

export interface ObservedWgPeer extends WireguardPeerObserved {
  preshared_key?: string;
  allowed_ips: string[];
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
      const [pub = '', psk, endpoint, allowed, handshake, rx, tx] = line.split('\t');
      return {
        public_key: pub,
        preshared_key: none(psk),
        endpoint: none(endpoint) ?? '',
        allowed_ips: none(allowed)?.split(',') ?? [],
        latest_handshake: Number(handshake ?? 0),
        rx_bytes: Number(rx ?? 0),
        tx_bytes: Number(tx ?? 0),
      };
    }),
  };
}

interface IpAddrLink {
  ifname: string;
  flags?: string[];
  addr_info?: { local: string; prefixlen: number; scope?: string }[];
}

/** `ip -j addr show` → the links whose name starts with `prefix`, with their global addresses. */
export function parseAddrLinks(
  stdout: string,
  prefix: string,
): { name: string; up: boolean; addresses: string[] }[] {
  const links = stdout.trim() ? (JSON.parse(stdout) as IpAddrLink[]) : [];
  return links
    .filter((l) => l.ifname.startsWith(prefix))
    .map((l) => ({
      name: l.ifname,
      up: (l.flags ?? []).includes('UP'),
      addresses: (l.addr_info ?? [])
        .filter((a) => a.scope !== 'link')
        .map((a) => `${a.local}/${a.prefixlen}`),
    }));
}
