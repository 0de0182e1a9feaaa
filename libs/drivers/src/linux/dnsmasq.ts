import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LinuxBridge, LinuxDhcp } from '@qnet/contracts';
import { isIp, isMac, normalizeMac, parseCidr } from '@qnet/netaddr';
import type { Change } from '../driver.js';

/**
 * DHCP and DNS of the guests: one dnsmasq per bridge with `dhcp`, in the agent's namespace, with
 * its files in `<dir>/<bridge>/`. What changes often (leases, names) lives in two hosts files that
 * dnsmasq reads again on SIGHUP; the configuration itself changes only with the network's options,
 * and a change there restarts that one dnsmasq.
 */
export interface DnsmasqFiles {
  conf: string;
  hosts: string;
  names: string;
}

export interface ObservedDnsmasq {
  files: Partial<DnsmasqFiles>;
  /** The leases dnsmasq has handed out (its lease file). */
  leases: DnsmasqLease[];
  /** The pid of a live dnsmasq started from this directory's configuration. */
  pid?: number;
}

const LEASE_TIME = '1h';
const FILES = ['conf', 'hosts', 'names'] as const;
const FILE_NAMES: Record<(typeof FILES)[number], string> = {
  conf: 'dnsmasq.conf',
  hosts: 'dhcp-hosts',
  names: 'dns-names',
};

export const dnsmasqDir = (dir: string, bridge: string) => path.join(dir, bridge);
const fileOf = (dir: string, bridge: string, f: (typeof FILES)[number]) =>
  path.join(dnsmasqDir(dir, bridge), FILE_NAMES[f]);
const pidFileOf = (dir: string, bridge: string) => path.join(dnsmasqDir(dir, bridge), 'pid');
const leaseFileOf = (dir: string, bridge: string) => path.join(dnsmasqDir(dir, bridge), 'leases');

export interface DnsmasqLease {
  mac: string;
  ip: string;
  line: string;
}

/** dnsmasq's lease file: `<expiry> <mac> <ip> <hostname> <client id>` per line. */
export function parseLeases(text: string): DnsmasqLease[] {
  return text
    .split('\n')
    .map((line) => ({ line: line.trim(), f: line.trim().split(/\s+/) }))
    .filter(({ f }) => f.length >= 3 && isMac(f[1]!) && isIp(f[2]!))
    .map(({ line, f }) => ({ mac: normalizeMac(f[1]!), ip: f[2]!, line }));
}

/**
 * The three files of a bridge's dnsmasq. Every value in them was validated by the spec parser (no
 * whitespace, commas or newlines can reach a line). The address range is the network itself, and
 * `static` means dnsmasq hands out no address that is not in the hosts file.
 */
export function renderDnsmasq(
  dir: string,
  bridge: LinuxBridge & { dhcp: LinuxDhcp },
): DnsmasqFiles {
  const d = bridge.dhcp;
  const net = parseCidr(bridge.cidr!);
  const gateway = bridge.gateway!.split('/')[0]!;
  const mask = prefixMask(net.prefix);
  const own = (f: (typeof FILES)[number]) => fileOf(dir, bridge.name, f);
  const routes = d.routes.flatMap((r) => [r.destination, r.gateway]);
  const conf = [
    '# written by the qnet agent; changes are overwritten',
    `interface=${bridge.name}`,
    'bind-dynamic',
    'except-interface=lo',
    'strict-order',
    'no-hosts',
    'no-resolv',
    ...d.dns_servers.map((s) => `server=${s}`),
    `domain=${d.domain}`,
    `local=/${d.domain}/`,
    'expand-hosts',
    // Names come from IPAM only: a guest cannot claim one by sending it in its request.
    'dhcp-ignore-names',
    `dhcp-range=${net.text.split('/')[0]},static,${mask},${LEASE_TIME}`,
    'dhcp-authoritative',
    `dhcp-hostsfile=${own('hosts')}`,
    `addn-hosts=${own('names')}`,
    `dhcp-leasefile=${leaseFileOf(dir, bridge.name)}`,
    `dhcp-option=option:router,${gateway}`,
    `dhcp-option=option:dns-server,${gateway}`,
    `dhcp-option=option:mtu,${d.mtu}`,
    `dhcp-option=option:domain-search,${d.domain}`,
    ...(routes.length
      ? [`dhcp-option=option:classless-static-route,${[`0.0.0.0/0`, gateway, ...routes].join(',')}`]
      : []),
    `pid-file=${pidFileOf(dir, bridge.name)}`,
    `log-facility=${path.join(dnsmasqDir(dir, bridge.name), 'log')}`,
    'user=nobody',
    'group=nogroup',
  ];
  return {
    conf: lines(conf),
    hosts: lines(d.leases.map((l) => [l.mac, l.ip, ...(l.name ? [l.name] : [])].join(','))),
    names: lines(d.names.map((n) => `${n.ip} ${n.name}`)),
  };
}

const lines = (l: string[]) => l.map((x) => `${x}\n`).join('');

function prefixMask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join('.');
}

/** Every dnsmasq directory under `dir`: its files and whether its dnsmasq is alive. */
export async function observeDnsmasq(dir: string): Promise<Record<string, ObservedDnsmasq>> {
  let bridges: string[];
  try {
    bridges = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const entries = await Promise.all(
    bridges.map(async (b): Promise<[string, ObservedDnsmasq]> => {
      const files: Partial<DnsmasqFiles> = {};
      for (const f of FILES) {
        const text = await readIfThere(fileOf(dir, b, f));
        if (text !== undefined) files[f] = text;
      }
      const pid = await livePid(pidFileOf(dir, b), fileOf(dir, b, 'conf'));
      const leases = parseLeases((await readIfThere(leaseFileOf(dir, b))) ?? '');
      return [b, { files, leases, ...(pid ? { pid } : {}) }];
    }),
  );
  return Object.fromEntries(entries);
}

async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The pid file's process, if it is a dnsmasq of this configuration (not a recycled pid). */
async function livePid(pidFile: string, conf: string): Promise<number | undefined> {
  const pid = Number((await readIfThere(pidFile))?.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmdline = await readIfThere(`/proc/${pid}/cmdline`);
  return cmdline?.split('\0').includes(`--conf-file=${conf}`) ? pid : undefined;
}

/** Stop a dnsmasq and wait for it to be gone (its sockets free) before anything else runs. */
function stop(pid: number): string[][] {
  return [
    ['kill', '-TERM', String(pid)],
    ['timeout', '5', 'tail', `--pid=${pid}`, '-f', '/dev/null'],
  ];
}

/**
 * Desired dnsmasq instances against what runs: files that differ are rewritten; a live dnsmasq is
 * told with SIGHUP when only its hosts files changed and restarted when its configuration did; a
 * missing one is started; one whose bridge no longer wants DHCP is stopped and its files removed.
 * A lease whose NIC is gone (or moved to another address) is released first, as its client would
 * (dhcp_release, as Neutron does): its name leaves the DNS, and its address is free for the NIC
 * that IPAM gives it to next. A stopped dnsmasq's lease file is rewritten without them instead.
 */
export function planDnsmasq(
  dir: string,
  bridges: LinuxBridge[],
  observed: Record<string, ObservedDnsmasq>,
): Change[] {
  const changes: Change[] = [];
  const wanted = new Map(bridges.flatMap((b) => (b.dhcp ? [[b.name, b.dhcp] as const] : [])));
  for (const [bridge, o] of Object.entries(observed))
    if (!wanted.has(bridge))
      changes.push(...(o.pid ? stop(o.pid) : []), ['rm', '-rf', dnsmasqDir(dir, bridge)]);
  for (const b of bridges) {
    if (!b.dhcp) continue;
    const files = renderDnsmasq(dir, { ...b, dhcp: b.dhcp });
    const o = observed[b.name];
    const keep = new Set(b.dhcp.leases.map((l) => `${l.mac} ${l.ip}`));
    const stale = (o?.leases ?? []).filter((l) => !keep.has(`${l.mac} ${l.ip}`));
    if (o?.pid) changes.push(...stale.map((l) => ['dhcp_release', b.name, l.ip, l.mac]));
    else if (stale.length)
      changes.push({
        write: leaseFileOf(dir, b.name),
        content: lines(o!.leases.filter((l) => !stale.includes(l)).map((l) => l.line)),
        mode: 0o644,
      });
    const differs = FILES.filter((f) => o?.files[f] !== files[f]);
    changes.push(
      ...differs.map((f) => ({ write: fileOf(dir, b.name, f), content: files[f], mode: 0o644 })),
    );
    const start = ['dnsmasq', `--conf-file=${fileOf(dir, b.name, 'conf')}`];
    if (!o?.pid) changes.push(start);
    else if (differs.includes('conf')) changes.push(...stop(o.pid), start);
    else if (differs.length) changes.push(['kill', '-HUP', String(o.pid)]);
  }
  return changes;
}
