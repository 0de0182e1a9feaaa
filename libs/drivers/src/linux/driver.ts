import { readdir } from 'node:fs/promises';
import { HOST_ROUTE_PROTO, type LinuxSpec, type LinuxStatus } from '@qnet/contracts';
import type { Driver } from '../driver.js';
import type { Executor } from '../executor.js';
import {
  parseFdb,
  parseLinks,
  parseNeigh,
  parseRoutes,
  type LinuxObserved,
  type ObservedLink,
} from './observed.js';
import { observeDnsmasq } from './dnsmasq.js';
import {
  DEFAULT_DNSMASQ_DIR,
  missingNamespaces,
  NAT_TABLE,
  natTableBody,
  planLinux,
} from './plan.js';
import {
  parsePortDrops,
  PORTS_TABLE,
  portsTableBody,
  rewritesPortsTable,
} from './port-security.js';
import { fingerprintOf, readTable, type OwnedTable } from '../nft.js';
import { parseLinuxSpec } from './spec.js';

export interface LinuxDriverOptions {
  /** Where the DHCP servers' files live, one directory per bridge (absolute; readable by nobody). */
  dnsmasqDir: string;
}

const NETNS_RUN_DIR = '/run/netns';

async function observeLinux(
  opts: LinuxDriverOptions,
  exec: Executor,
  desired?: LinuxSpec,
  previous?: LinuxSpec,
): Promise<LinuxObserved> {
  // Independent reads run in parallel, since each is a process start (tens of ms on a busy host);
  // only the forwarding and neighbour reads wait, for the links they are about.
  const [
    { links, vxlans, bridges, fdbs, neighs },
    nat,
    ports,
    ipForward,
    dnsmasq,
    namespaces,
    routes,
  ] = await Promise.all([
    observeLinksAndForwarding(exec),
    observeOwnedTable(exec, NAT_TABLE, natTableBody, desired, previous),
    observeOwnedTable(exec, PORTS_TABLE, portsTableBody, desired, previous),
    desired?.bridges.some((b) => b.gateway) ? readIpForward(exec) : undefined,
    observeDnsmasq(opts.dnsmasqDir),
    namedNamespaces(),
    // Like an owned table: read where routes are wanted, were held, or nothing is known yet.
    desired?.routes.length || previous === undefined || previous.routes.length
      ? exec
          .read(['ip', '-j', 'route', 'show', 'proto', String(HOST_ROUTE_PROTO)])
          .then((r) => parseRoutes(r.stdout))
      : undefined,
  ]);
  return {
    links,
    ...(routes !== undefined ? { routes } : {}),
    dnsmasq,
    ...(nat !== undefined ? { nat: nat.fingerprint } : {}),
    ...(ports !== undefined
      ? {
          ports: ports.fingerprint,
          portDrops: parsePortDrops(ports.listing),
          ...(previous && ports.fingerprint === fingerprintIfAny(portsTableBody(previous))
            ? { portsHeld: previous }
            : {}),
        }
      : {}),
    ...(ipForward !== undefined ? { ipForward } : {}),
    fdb: Object.fromEntries(vxlans.map((x, i) => [x.name, parseFdb(fdbs[i]!.stdout)])),
    neigh: Object.fromEntries(bridges.map((b, i) => [b, parseNeigh(neighs[i]!.stdout)])),
    namespaces,
  };
}

const readIpForward = (exec: Executor) =>
  exec.read(['sysctl', '-n', 'net.ipv4.ip_forward']).then((r) => r.stdout.trim() === '1');

/**
 * A pushed change, against what the last apply left: what `applied` looks like applied, with
 * fresh reads only of what that cannot tell — the DHCP servers (their pids), the namespaces,
 * forwarding where no gateway was wanted before, and the port table's counts where the change
 * rewrites it whole. One more NIC then costs the same on a host of 10 or 1,000.
 */
async function observeSince(
  opts: LinuxDriverOptions,
  exec: Executor,
  desired: LinuxSpec,
  applied: LinuxSpec,
): Promise<LinuxObserved> {
  const forwarding = (spec: LinuxSpec) => spec.bridges.some((b) => b.gateway);
  const [dnsmasq, namespaces, ipForward, ports] = await Promise.all([
    observeDnsmasq(opts.dnsmasqDir),
    namedNamespaces(),
    forwarding(desired) && !forwarding(applied) ? readIpForward(exec) : true,
    rewritesPortsTable(desired, applied) ? readTable(exec, PORTS_TABLE) : undefined,
  ]);
  const held = assumeApplied(applied);
  return {
    ...held,
    dnsmasq,
    namespaces,
    ipForward,
    ...(ports ? { ports: ports.fingerprint, portDrops: parsePortDrops(ports.listing) } : {}),
  };
}

async function observeLinksAndForwarding(exec: Executor) {
  const links = parseLinks((await exec.read(['ip', '-j', '-d', 'addr', 'show'])).stdout);
  const vxlans = links.filter((l) => l.owned && l.kind === 'vxlan');
  const bridges = [...new Set(vxlans.flatMap((x) => (x.master ? [x.master] : [])))];
  const [fdbs, neighs] = await Promise.all([
    Promise.all(vxlans.map((x) => exec.read(['bridge', '-j', 'fdb', 'show', 'dev', x.name]))),
    Promise.all(
      bridges.map((b) => exec.read(['ip', '-j', 'neigh', 'show', 'dev', b, 'nud', 'permanent'])),
    ),
  ]);
  return { links, vxlans, bridges, fdbs, neighs };
}

/**
 * An agent-owned table is read only where it can matter — wanted now, there after the last apply,
 * or unknown (the first apply of this agent) — so that hosts without NAT networks or guest ports
 * pay no nft start. Where it is not wanted, a host without nft simply has none.
 */
async function observeOwnedTable(
  exec: Executor,
  table: OwnedTable,
  body: (spec: LinuxSpec) => string,
  desired: LinuxSpec | undefined,
  previous: LinuxSpec | undefined,
): Promise<{ listing: string; fingerprint: string } | undefined> {
  const wanted = desired !== undefined && body(desired) !== '';
  if (!wanted && previous !== undefined && body(previous) === '') return undefined;
  try {
    return await readTable(exec, table);
  } catch (err) {
    if (wanted) throw err;
    return undefined;
  }
}

const fingerprintIfAny = (body: string) => (body ? fingerprintOf(body) : undefined);

/** What `ip netns list` lists, read without starting a process: the files under /run/netns. */
async function namedNamespaces(): Promise<string[]> {
  try {
    return await readdir(NETNS_RUN_DIR);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** What the host looks like once `spec` is applied (dry-run mode observes nothing). */
function assumeApplied(spec: LinuxSpec): LinuxObserved {
  const nat = fingerprintIfAny(natTableBody(spec));
  const ports = fingerprintIfAny(portsTableBody(spec));
  const link = (name: string, kind: string, mtu: number, extra: Partial<ObservedLink> = {}) => ({
    name,
    kind,
    mtu,
    up: true,
    owned: true,
    ...extra,
  });
  return {
    links: [
      ...spec.bridges.map((b) =>
        link(b.name, 'bridge', b.mtu, {
          vlanFiltering: Boolean(b.vlan_filtering),
          addresses: b.gateway ? [b.gateway] : [],
          ...(b.mac ? { mac: b.mac } : {}),
        }),
      ),
      // A bridged network's uplink is the host's; only its master is ever planned.
      ...spec.bridges.flatMap((b) =>
        b.uplink ? [link(b.uplink, '', b.mtu, { owned: false, master: b.name })] : [],
      ),
      ...spec.taps.map((t) => link(t.name, 'tun', t.mtu, { master: t.bridge })),
      ...spec.veths.map((v) => link(v.name, 'veth', v.mtu, { master: v.bridge })),
      ...spec.vxlans.map((x) =>
        link(x.name, 'vxlan', x.mtu, {
          master: x.bridge,
          neighSuppress: true,
          vxlan: { vni: x.vni, local: x.local, port: x.port },
        }),
      ),
    ],
    fdb: Object.fromEntries(
      spec.vxlans.map((x) => [
        x.name,
        [
          ...x.flood.map((dst) => ({
            mac: '00:00:00:00:00:00',
            dst,
            self: true,
            state: 'permanent',
          })),
          ...x.fdb.map((e) => ({ mac: e.mac, dst: e.dst, self: true, state: 'permanent' })),
          ...x.fdb.map((e) => ({ mac: e.mac, self: false, state: 'static' })),
        ],
      ]),
    ),
    neigh: Object.fromEntries(spec.vxlans.map((x) => [x.bridge, x.neigh])),
    routes: spec.routes,
    ...(nat ? { nat } : {}),
    ...(ports ? { ports, portDrops: {}, portsHeld: spec } : {}),
    ipForward: true,
    // Dry-run starts no daemon: every DHCP server is planned (and recorded) on each apply.
    dnsmasq: {},
  };
}

/**
 * Bridges, TAPs, veths and VXLAN overlays with their forwarding and neighbour entries; the guests'
 * gateways, NAT, DHCP and DNS servers, and port security.
 */
export function linuxDriver(
  opts: LinuxDriverOptions = { dnsmasqDir: DEFAULT_DNSMASQ_DIR },
): Driver<LinuxSpec, LinuxObserved> {
  return {
    name: 'linux',
    parse: parseLinuxSpec,
    observe: (exec, desired, previous) => observeLinux(opts, exec, desired, previous),
    observeSince: (exec, desired, applied) => observeSince(opts, exec, desired, applied),
    plan: (desired, observed) => planLinux(desired, observed, opts.dnsmasqDir),
    unrealizable: missingNamespaces,
    assumeApplied,
    status: async (exec): Promise<LinuxStatus> => {
      const ports = await readTable(exec, PORTS_TABLE).catch(() => undefined);
      return {
        port_drops: ports ? parsePortDrops(ports.listing) : {},
        dhcp: Object.fromEntries(
          Object.entries(await observeDnsmasq(opts.dnsmasqDir)).map(([b, o]) => [
            b,
            o.pid !== undefined,
          ]),
        ),
      };
    },
  };
}
