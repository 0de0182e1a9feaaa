interface IpAddrLink {
  ifname: string;
  flags?: string[];
  mtu?: number;
  /** With -d only. */
  ifalias?: string;
  addr_info?: { local: string; prefixlen: number; scope?: string }[];
}

export interface AddrLink {
  name: string;
  up: boolean;
  mtu: number;
  /** '' unless read with `ip -d`. */
  alias: string;
  addresses: string[];
}

/** `ip -j [-d] addr show` → the links whose name starts with `prefix`, with their global addresses. */
export function parseAddrLinks(stdout: string, prefix: string): AddrLink[] {
  const links = stdout.trim() ? (JSON.parse(stdout) as IpAddrLink[]) : [];
  return links
    .filter((l) => l.ifname.startsWith(prefix))
    .map((l) => ({
      name: l.ifname,
      up: (l.flags ?? []).includes('UP'),
      mtu: l.mtu ?? 0,
      alias: l.ifalias ?? '',
      addresses: (l.addr_info ?? [])
        .filter((a) => a.scope !== 'link')
        .map((a) => `${a.local}/${a.prefixlen}`),
    }));
}
