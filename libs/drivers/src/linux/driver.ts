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
import { missingNamespaces, planLinux } from './plan.js';
import { parseLinuxSpec } from './spec.js';

const NETNS_RUN_DIR = '/run/netns';

async function observeLinux(exec: Executor): Promise<LinuxObserved> {
  const links = parseLinks((await exec.read(['ip', '-j', '-d', 'link', 'show'])).stdout);
  const vxlans = links.filter((l) => l.owned && l.kind === 'vxlan');
  const bridges = [...new Set(vxlans.flatMap((x) => (x.master ? [x.master] : [])))];
  // Independent reads: in parallel, since each is a process start (tens of ms on a busy host).
  const [fdbs, neighs] = await Promise.all([
    Promise.all(vxlans.map((x) => exec.read(['bridge', '-j', 'fdb', 'show', 'dev', x.name]))),
    Promise.all(
      bridges.map((b) => exec.read(['ip', '-j', 'neigh', 'show', 'dev', b, 'nud', 'permanent'])),
    ),
  ]);
  return {
    links,
    fdb: Object.fromEntries(vxlans.map((x, i) => [x.name, parseFdb(fdbs[i]!.stdout)])),
    neigh: Object.fromEntries(bridges.map((b, i) => [b, parseNeigh(neighs[i]!.stdout)])),
    namespaces: await namedNamespaces(),
  };
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
        link(b.name, 'bridge', b.mtu, { vlanFiltering: Boolean(b.vlan_filtering) }),
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
