import { readdir } from 'node:fs/promises';
import type { LinuxSpec } from '@qnet/contracts';
import type { Driver } from '../driver.js';
import type { Executor } from '../executor.js';
import {
  parseFdb,
  parseLinks,
  parseNeigh,
  type LinuxObserved,
  type ObservedLink,
} from './observed.js';
import { missingNamespaces, NAT_TABLE, natFingerprint, planLinux } from './plan.js';
import { observeTable } from '../nft.js';
import { parseLinuxSpec } from './spec.js';

const NETNS_RUN_DIR = '/run/netns';

async function observeLinux(
  exec: Executor,
  desired?: LinuxSpec,
  previous?: LinuxSpec,
): Promise<LinuxObserved> {
  const links = parseLinks((await exec.read(['ip', '-j', '-d', 'addr', 'show'])).stdout);
  const vxlans = links.filter((l) => l.owned && l.kind === 'vxlan');
  const bridges = [...new Set(vxlans.flatMap((x) => (x.master ? [x.master] : [])))];
  // Independent reads: in parallel, since each is a process start (tens of ms on a busy host).
  const [fdbs, neighs, nat, ipForward] = await Promise.all([
    Promise.all(vxlans.map((x) => exec.read(['bridge', '-j', 'fdb', 'show', 'dev', x.name]))),
    Promise.all(
      bridges.map((b) => exec.read(['ip', '-j', 'neigh', 'show', 'dev', b, 'nud', 'permanent'])),
    ),
    observeNat(exec, desired, previous),
    desired?.bridges.some((b) => b.gateway)
      ? exec.read(['sysctl', '-n', 'net.ipv4.ip_forward']).then((r) => r.stdout.trim() === '1')
      : undefined,
  ]);
  return {
    links,
    ...(nat !== undefined ? { nat } : {}),
    ...(ipForward !== undefined ? { ipForward } : {}),
    fdb: Object.fromEntries(vxlans.map((x, i) => [x.name, parseFdb(fdbs[i]!.stdout)])),
    neigh: Object.fromEntries(bridges.map((b, i) => [b, parseNeigh(neighs[i]!.stdout)])),
    namespaces: await namedNamespaces(),
  };
}

/**
 * The NAT table is read only where it can matter — wanted now, there after the last apply, or
 * unknown (the first apply of this agent) — so that hosts without NAT networks pay no nft start.
 * Where it is not wanted, a host without nft simply has none.
 */
async function observeNat(
  exec: Executor,
  desired: LinuxSpec | undefined,
  previous: LinuxSpec | undefined,
): Promise<string | undefined> {
  const wanted = desired !== undefined && natFingerprint(desired) !== undefined;
  if (!wanted && previous !== undefined && natFingerprint(previous) === undefined) return undefined;
  try {
    return await observeTable(exec, NAT_TABLE);
  } catch (err) {
    if (wanted) throw err;
    return undefined;
  }
}

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
  const nat = natFingerprint(spec);
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
        }),
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
    ...(nat ? { nat } : {}),
    ipForward: true,
  };
}

/** Bridges, TAPs, veths and VXLAN overlays with their forwarding and neighbour entries. */
export const linuxDriver: Driver<LinuxSpec, LinuxObserved> = {
  name: 'linux',
  parse: parseLinuxSpec,
  observe: observeLinux,
  plan: planLinux,
  unrealizable: missingNamespaces,
  assumeApplied,
};
