import { isInterfaceName } from '@qnet/netaddr';
import type { Driver } from '../driver.js';
import type { Executor } from '../executor.js';

/** Marker the agent puts on every device it creates: it only ever changes or removes marked devices. */
export const OWNED_ALIAS = 'qnet-managed';

export interface BridgeSpec {
  name: string;
  mtu: number;
}

export interface LinuxSpec {
  bridges: BridgeSpec[];
}

export interface ObservedBridge {
  name: string;
  mtu: number;
  up: boolean;
  owned: boolean;
}

export interface LinuxObserved {
  bridges: ObservedBridge[];
}

const DEFAULT_MTU = 1500;

export function parseLinuxSpec(spec: unknown): LinuxSpec {
  const raw = (spec ?? {}) as { bridges?: unknown };
  const list = raw.bridges ?? [];
  if (!Array.isArray(list)) throw new Error('bridges must be a list');
  const seen = new Set<string>();
  const bridges = list.map((b: { name?: unknown; mtu?: unknown }, i) => {
    if (!isInterfaceName(b?.name))
      throw new Error(`bridges[${i}].name is not a valid interface name`);
    const mtu = b.mtu === undefined ? DEFAULT_MTU : b.mtu;
    if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
      throw new Error(`bridges[${i}].mtu must be 68-65535`);
    if (seen.has(b.name)) throw new Error(`bridges[${i}].name ${b.name} is listed twice`);
    seen.add(b.name);
    return { name: b.name, mtu };
  });
  return { bridges };
}

/** ip -j -d link show type bridge → observed bridges. */
export function parseIpLinkJson(stdout: string): ObservedBridge[] {
  if (!stdout.trim()) return [];
  const links = JSON.parse(stdout) as {
    ifname: string;
    mtu: number;
    flags?: string[];
    ifalias?: string;
  }[];
  return links.map((l) => ({
    name: l.ifname,
    mtu: l.mtu,
    up: (l.flags ?? []).includes('UP'),
    owned: l.ifalias === OWNED_ALIAS,
  }));
}

export function planBridges(desired: LinuxSpec, observed: LinuxObserved): string[][] {
  const have = new Map(observed.bridges.map((b) => [b.name, b]));
  const want = new Set(desired.bridges.map((b) => b.name));
  const cmds: string[][] = [];
  for (const b of desired.bridges) {
    const cur = have.get(b.name);
    if (!cur) {
      cmds.push(['ip', 'link', 'add', b.name, 'type', 'bridge']);
      cmds.push(['ip', 'link', 'set', 'dev', b.name, 'alias', OWNED_ALIAS]);
      cmds.push(['ip', 'link', 'set', 'dev', b.name, 'mtu', String(b.mtu), 'up']);
      continue;
    }
    // A bridge of that name that we did not create is adopted (marked), as the seed's
    // pre-existing fcbr0 would be; it is never deleted because of that.
    if (!cur.owned) cmds.push(['ip', 'link', 'set', 'dev', b.name, 'alias', OWNED_ALIAS]);
    if (cur.mtu !== b.mtu || !cur.up)
      cmds.push(['ip', 'link', 'set', 'dev', b.name, 'mtu', String(b.mtu), 'up']);
  }
  for (const b of observed.bridges) {
    if (b.owned && !want.has(b.name)) cmds.push(['ip', 'link', 'del', 'dev', b.name]);
  }
  return cmds;
}

export const linuxBridgeDriver: Driver<LinuxSpec, LinuxObserved> = {
  name: 'linux',
  parse: parseLinuxSpec,
  async observe(exec: Executor) {
    const { stdout } = await exec.read(['ip', '-j', '-d', 'link', 'show', 'type', 'bridge']);
    return { bridges: parseIpLinkJson(stdout) };
  },
  plan: planBridges,
  assumeApplied: (spec) => ({
    bridges: spec.bridges.map((b) => ({ ...b, up: true, owned: true })),
  }),
};
