import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { MAX_REPORTED_INTERFACES, type Capability } from '@qnet/contracts';
import { isInterfaceName } from '@qnet/netaddr';
import type { Executor } from './executor.js';
import { parseLinks } from './linux/observed.js';

async function onPath(cmd: string): Promise<boolean> {
  const res = await execa('which', [cmd], { reject: false });
  return res.exitCode === 0;
}

/** Tries to create (then deletes) a throwaway device: the only reliable test of kernel support. */
async function canCreate(exec: Executor, args: string[]): Promise<boolean> {
  const name = `qnprobe${randomBytes(3).toString('hex')}`;
  try {
    await exec.run(['ip', 'link', 'add', name, ...args]);
    await exec.run(['ip', 'link', 'del', 'dev', name]);
    return true;
  } catch {
    return false;
  }
}

/** Adds (then deletes) a throwaway table of an nftables family. */
async function canFilter(exec: Executor, family: string): Promise<boolean> {
  const name = `qnprobe${randomBytes(3).toString('hex')}`;
  try {
    await exec.run(['nft', 'add', 'table', family, name]);
    await exec.run(['nft', 'delete', 'table', family, name]);
    return true;
  } catch {
    return false;
  }
}

function moduleLoaded(name: string): boolean {
  return (
    existsSync(`/sys/module/${name}`) ||
    readFileSync('/proc/modules', 'utf8')
      .split('\n')
      .some((l) => l.startsWith(`${name} `))
  );
}

/**
 * What this host can do. Kernel features are probed by creating a device when the executor is
 * real (inside the agent's namespace in netns mode); in dry-run they are read from loaded modules.
 */
export async function probeCapabilities(
  exec: Executor,
  opts: { ovnNbDb?: string } = {},
): Promise<Capability[]> {
  const kernel = async (args: string[], module: string) =>
    exec.mode === 'real' ? canCreate(exec, args) : moduleLoaded(module);
  const checks: [Capability, () => Promise<boolean>][] = [
    ['bridge', () => kernel(['type', 'bridge'], 'bridge')],
    [
      'vxlan',
      () => kernel(['type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '127.0.0.1'], 'vxlan'),
    ],
    ['vlan_filtering', () => kernel(['type', 'bridge', 'vlan_filtering', '1'], '8021q')],
    ['nftables', () => onPath('nft')],
    [
      'nft_bridge',
      async () => (await onPath('nft')) && (exec.mode !== 'real' || canFilter(exec, 'bridge')),
    ],
    ['dnsmasq', async () => (await onPath('dnsmasq')) && onPath('dhcp_release')],
    ['ovn_nbctl', () => onPath('ovn-nbctl')],
    ['ovn_nb', async () => opts.ovnNbDb !== undefined && (await onPath('ovn-nbctl'))],
    ['frr', async () => (await onPath('vtysh')) && existsSync('/usr/lib/frr/bgpd')],
    ['wireguard_kernel', () => kernel(['type', 'wireguard'], 'wireguard')],
    ['wireguard_go', () => onPath('wireguard-go')],
  ];
  const found: Capability[] = [];
  for (const [cap, check] of checks) if (await check().catch(() => false)) found.push(cap);
  return found;
}

/**
 * The host's interfaces a bridged network could enslave as its uplink: every link but loopback,
 * bridges and the agent's own devices. Undefined when unknown (dry-run, or too many to report), so
 * that the registry does not refuse an uplink it cannot see.
 */
export async function uplinkCandidates(exec: Executor): Promise<string[] | undefined> {
  if (exec.mode !== 'real') return undefined;
  const names = parseLinks((await exec.read(['ip', '-j', '-d', 'link', 'show'])).stdout)
    .filter((l) => !l.owned && l.name !== 'lo' && l.kind !== 'bridge' && isInterfaceName(l.name))
    .map((l) => l.name)
    .sort();
  return names.length <= MAX_REPORTED_INTERFACES ? names : undefined;
}
