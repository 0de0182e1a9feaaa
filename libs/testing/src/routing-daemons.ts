import { execa, type ResultPromise } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '@qnet/stack';
import type { TestCluster } from './cluster.js';
import type { Netns } from './netns.js';

const FRR_DIR = '/usr/lib/frr';

/**
 * One node's FRRouting — zebra and bgpd — inside a test namespace, as its own instance (FRR's
 * -N pathspace: config in /etc/frr/<name>, sockets in /var/run/frr/<name>), the way systemd runs
 * FRR on a real node. The agent configures it through vtysh and frr-reload.py with FRR_PATHSPACE.
 */
export class FrrInstance {
  private constructor(
    readonly ns: Netns,
    readonly pathspace: string,
  ) {}

  static async start(ns: Netns, pathspace = ns.name): Promise<FrrInstance> {
    const conf = `/etc/frr/${pathspace}`;
    const run = `/var/run/frr/${pathspace}`;
    await mkdir(conf, { recursive: true });
    await mkdir(run, { recursive: true });
    await writeFile(`${conf}/vtysh.conf`, 'service integrated-vtysh-config\n');
    await writeFile(`${conf}/frr.conf`, 'frr defaults traditional\n', { mode: 0o600 });
    await execa('chown', ['-R', 'frr:frr', conf, run]);
    // -P 0: no vty TCP port; vtysh talks over the instance's unix sockets.
    for (const daemon of ['zebra', 'bgpd'])
      await ns.exec([
        `${FRR_DIR}/${daemon}`,
        '-d',
        '-N',
        pathspace,
        '-F',
        'traditional',
        '-P',
        '0',
      ]);
    const frr = new FrrInstance(ns, pathspace);
    await waitFor(
      async () => (await frr.vtysh('show bgp summary json', false)) !== undefined,
      10_000,
      `FRR ${pathspace}`,
    );
    return frr;
  }

  /** vtysh output, or undefined when the daemons do not answer (and `reject` is false). */
  async vtysh(command: string, reject = true): Promise<string | undefined> {
    const r = await execa('vtysh', ['-N', this.pathspace, '-c', command], { reject });
    return r.exitCode === 0 ? String(r.stdout) : undefined;
  }

  /**
   * Configuration commands in one vtysh session (`configure terminal`, then each line), run
   * through the namespace as the agent runs its commands.
   */
  async configure(...lines: string[]): Promise<void> {
    const args = ['configure terminal', ...lines].flatMap((l) => ['-c', l]);
    await this.ns.exec(['vtysh', '-N', this.pathspace, ...args]);
  }

  /** The node's agent in its namespace, driving this FRR instance; resolves once it registered. */
  async startAgent(cluster: TestCluster, hostId: string, env: Record<string, string> = {}) {
    cluster.start(
      'node-agent',
      { hostId, mode: 'netns', netns: this.ns.name },
      { FRR_PATHSPACE: this.pathspace, ...env },
    );
    await cluster.waitForHosts([hostId]);
  }

  async stop(): Promise<void> {
    const run = `/var/run/frr/${this.pathspace}`;
    for (const daemon of ['bgpd', 'zebra']) {
      const pid = await readFile(`${run}/${daemon}.pid`, 'utf8').catch(() => '');
      if (/^\d+\s*$/.test(pid)) {
        try {
          process.kill(Number(pid), 'SIGTERM');
        } catch {
          /* already gone */
        }
      }
    }
    await waitFor(
      async () => (await this.vtysh('show version', false)) === undefined,
      10_000,
      'FRR to stop',
    ).catch(() => undefined);
    await rm(run, { recursive: true, force: true });
    await rm(`/etc/frr/${this.pathspace}`, { recursive: true, force: true });
  }
}

export interface GobgpNeighbor {
  address: string;
  asn: number;
  password?: string;
  /** The address family the session carries (default ipv4 unicast). */
  family?: 'ipv4' | 'ipv6';
}

export interface GobgpRoute {
  prefix: string;
  next_hop: string;
  communities: string[];
  as_path: number[];
}

/**
 * A top-of-rack switch: gobgpd — an independent BGP implementation — in a test namespace, its
 * gRPC API on that namespace's loopback, driven with the gobgp CLI.
 */
export class GobgpTor {
  private constructor(
    readonly ns: Netns,
    private readonly proc: ResultPromise,
    private readonly dir: string,
  ) {}

  static async start(
    ns: Netns,
    cfg: { asn: number; routerId: string; neighbors: GobgpNeighbor[] },
  ): Promise<GobgpTor> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'qnet-gobgp-'));
    const toml = [
      '[global.config]',
      `  as = ${cfg.asn}`,
      `  router-id = "${cfg.routerId}"`,
      ...cfg.neighbors.flatMap((n) => [
        '[[neighbors]]',
        '  [neighbors.config]',
        `    neighbor-address = "${n.address}"`,
        `    peer-as = ${n.asn}`,
        ...(n.password ? [`    auth-password = "${n.password}"`] : []),
        ...(n.family === 'ipv6'
          ? [
              '  [[neighbors.afi-safis]]',
              '    [neighbors.afi-safis.config]',
              '      afi-safi-name = "ipv6-unicast"',
            ]
          : []),
        '  [neighbors.timers.config]',
        '    connect-retry = 1',
        '    hold-time = 9',
        '    keepalive-interval = 3',
        '    idle-hold-time-after-reset = 1',
      ]),
    ].join('\n');
    await writeFile(path.join(dir, 'gobgpd.toml'), toml + '\n', { mode: 0o600 });
    const proc = execa(
      'ip',
      [
        'netns',
        'exec',
        ns.name,
        'gobgpd',
        '-f',
        path.join(dir, 'gobgpd.toml'),
        '-l',
        'warn',
        '--api-hosts',
        '127.0.0.1:50051',
      ],
      { reject: false, stdio: 'ignore' },
    );
    const tor = new GobgpTor(ns, proc, dir);
    await waitFor(async () => (await tor.gobgp(['global'], false)) !== undefined, 10_000, 'gobgpd');
    return tor;
  }

  private async gobgp(args: string[], reject = true): Promise<string | undefined> {
    const r = await this.ns.exec(['gobgp', ...args], { reject });
    return r.exitCode === 0 ? r.stdout : undefined;
  }

  /** The ToR's view of each neighbor's session: address → gobgp's state (e.g. "established"). */
  async sessions(): Promise<Map<string, string>> {
    const out = JSON.parse((await this.gobgp(['neighbor', '-j'])) ?? '[]') as {
      state: { neighbor_address: string; session_state: number | string };
    }[];
    const names = [
      'unknown',
      'idle',
      'connect',
      'active',
      'opensent',
      'openconfirm',
      'established',
    ];
    return new Map(
      out.map((n) => [
        n.state.neighbor_address,
        typeof n.state.session_state === 'number'
          ? (names[n.state.session_state] ?? 'unknown')
          : String(n.state.session_state).toLowerCase(),
      ]),
    );
  }

  /** The ToR's global RIB of one address family, as the routes it learned or originated. */
  async rib(family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<Map<string, GobgpRoute>> {
    const out = JSON.parse(
      (await this.gobgp(['global', 'rib', '-a', family, '-j'])) || '{}',
    ) as Record<
      string,
      {
        attrs: {
          type: number;
          nexthop?: string;
          communities?: number[];
          as_paths?: { asns: number[] }[];
        }[];
      }[]
    >;
    const routes = new Map<string, GobgpRoute>();
    for (const [prefix, paths] of Object.entries(out)) {
      const attrs = paths[0]?.attrs ?? [];
      routes.set(prefix, {
        prefix,
        // NEXT_HOP for IPv4; MP_REACH_NLRI carries it for IPv6.
        next_hop: attrs.find((a) => a.type === 3 || a.type === 14)?.nexthop ?? '',
        communities: (attrs.find((a) => a.type === 8)?.communities ?? []).map(
          (c) => `${Math.floor(c / 65536)}:${c % 65536}`,
        ),
        as_path: (attrs.find((a) => a.type === 2)?.as_paths ?? []).flatMap((p) => p.asns),
      });
    }
    return routes;
  }

  /** Streams the ToR's RIB changes as they arrive (`gobgp monitor global rib`). */
  async monitor(): Promise<RibMonitor> {
    const proc = execa(
      'ip',
      ['netns', 'exec', this.ns.name, 'gobgp', 'monitor', 'global', 'rib', '-j'],
      {
        reject: false,
        buffer: false,
      },
    );
    const monitor = new RibMonitor(proc);
    // The stream starts with nothing; what is already in the RIB counts as present.
    for (const prefix of (await this.rib()).keys()) monitor.present.add(prefix);
    return monitor;
  }

  async announce(prefix: string): Promise<void> {
    await this.gobgp(['global', 'rib', 'add', prefix, '-a', 'ipv4']);
  }

  async stop(): Promise<void> {
    this.proc.kill('SIGTERM');
    await this.proc;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Prefixes in a ToR's RIB, kept current from `gobgp monitor`; waits resolve on arrival. */
export class RibMonitor {
  readonly present = new Set<string>();
  private waiters: { prefix: string; present: boolean; resolve: (at: number) => void }[] = [];
  private pending = '';

  constructor(private readonly proc: ResultPromise) {
    proc.stdout!.on('data', (chunk: Buffer) => this.read(chunk.toString()));
  }

  private read(text: string): void {
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop()!;
    const at = performance.now();
    for (const line of lines.filter((l) => l.startsWith('['))) {
      for (const p of JSON.parse(line) as { nlri: { prefix: string }; withdrawal?: boolean }[]) {
        if (p.withdrawal) this.present.delete(p.nlri.prefix);
        else this.present.add(p.nlri.prefix);
      }
    }
    this.waiters = this.waiters.filter((w) => {
      if (this.present.has(w.prefix) !== w.present) return true;
      w.resolve(at);
      return false;
    });
  }

  /** performance.now() when `prefix` was (or became) present — or absent, with present false. */
  until(prefix: string, present = true, timeoutMs = 30_000): Promise<number> {
    if (this.present.has(prefix) === present) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${prefix} not ${present ? 'in' : 'out of'} the ToR RIB after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        prefix,
        present,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }

  async stop(): Promise<void> {
    this.proc.kill('SIGTERM');
    await this.proc;
  }
}
