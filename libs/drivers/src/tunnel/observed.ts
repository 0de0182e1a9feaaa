import { existsSync } from 'node:fs';
import {
  TUNNEL_DEVICE_ALIAS,
  TUNNEL_NFT_TABLE,
  TUNNEL_ROUTE_PROTO,
  type TunnelSpec,
} from '@qnet/contracts';
import { CommandError, type Executor } from '../executor.js';
import { readForwarding, type Forwarding } from '../forwarding.js';
import { parseAddrLinks, type AddrLink } from '../ip-addr.js';
import { observeTable, type OwnedTable } from '../nft.js';
import { parseWgDump, type ObservedWgPeer } from '../wireguard/observed.js';

export const TUNNEL_TABLE: OwnedTable = { family: 'inet', name: TUNNEL_NFT_TABLE };

/** A tunnel device: ours (its alias says so) or one holding a name the spec wants. */
export interface TunnelLink extends AddrLink {
  /** `wg show` answers for it: a WireGuard device (kernel or wireguard-go). */
  wireguard: boolean;
  private_key: string;
  listen_port: number;
  peers: ObservedWgPeer[];
}

/** A route the driver owns (protocol 114); dst always with its prefix length; dev '' when unreachable. */
export interface TunnelRoute {
  dst: string;
  dev: string;
}

export interface TunnelObservedHost {
  links: TunnelLink[];
  routes: TunnelRoute[];
  forwarding: Forwarding;
  /** Fingerprint of the router's nftables table; undefined when it does not exist. */
  table: string | undefined;
  /** The kernel has WireGuard; otherwise a device is a wireguard-go process. */
  kernel: boolean;
  /** Probe verdicts by router public key at the time of the observation (endpoints). */
  health: ReadonlyMap<string, boolean | null>;
  /** Routers this endpoint failed away from while the decision still names them. */
  avoided: ReadonlySet<string>;
}

export const wantedNames = (spec: TunnelSpec | undefined): string[] => [
  ...(spec?.router ? [spec.router.interface_name] : []),
  ...(spec?.endpoint?.interface_names ?? []),
];

/** `ip -j route show proto 114` (either family) → routes with explicit prefix lengths. */
export function parseTunnelRoutes(stdout: string): TunnelRoute[] {
  const rows = stdout.trim() ? (JSON.parse(stdout) as { dst: string; dev?: string }[]) : [];
  return rows.map((r) => ({
    dst: r.dst.includes('/') ? r.dst : `${r.dst}/${r.dst.includes(':') ? 128 : 32}`,
    dev: r.dev ?? '',
  }));
}

async function wgDump(exec: Executor, name: string) {
  try {
    return {
      wireguard: true,
      ...parseWgDump((await exec.read(['wg', 'show', name, 'dump'])).stdout),
    };
  } catch (err) {
    if (err instanceof CommandError)
      return { wireguard: false, private_key: '', public_key: '', listen_port: 0, peers: [] };
    throw err;
  }
}

/**
 * The host's tunnel devices (ours, and any holding a wanted name), owned routes, and — when this
 * host is or was a routing server — forwarding and the owned table; everything read side by side.
 */
export async function observeTunnels(
  exec: Executor,
  desired: TunnelSpec | undefined,
  previous: TunnelSpec | undefined,
  live: Pick<TunnelObservedHost, 'health' | 'avoided'>,
): Promise<TunnelObservedHost> {
  const names = new Set([...wantedNames(desired), ...wantedNames(previous)]);
  const router = Boolean(desired?.router ?? previous?.router);
  const [addrs, v4, v6, forwarding, table] = await Promise.all([
    exec.read(['ip', '-j', '-d', 'addr', 'show']),
    exec.read(['ip', '-j', 'route', 'show', 'proto', TUNNEL_ROUTE_PROTO]),
    exec.read(['ip', '-j', '-6', 'route', 'show', 'proto', TUNNEL_ROUTE_PROTO]),
    router ? readForwarding(exec) : { v4: false, v6: false },
    router ? observeTable(exec, TUNNEL_TABLE) : undefined,
  ]);
  const mine = parseAddrLinks(addrs.stdout, '').filter(
    (l) => l.alias === TUNNEL_DEVICE_ALIAS || names.has(l.name),
  );
  const links = await Promise.all(
    mine.map(async (l): Promise<TunnelLink> => ({ ...l, ...(await wgDump(exec, l.name)) })),
  );
  return {
    links,
    routes: [...parseTunnelRoutes(v4.stdout), ...parseTunnelRoutes(v6.stdout)],
    forwarding,
    table,
    kernel: existsSync('/sys/module/wireguard'),
    ...live,
  };
}
