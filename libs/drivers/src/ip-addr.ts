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
