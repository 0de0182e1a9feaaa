import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';

/** Network namespaces made by a test and removed by it: the only places test traffic goes. */
export class Netns {
  private constructor(readonly name: string) {}

  static async create(prefix = 'qt'): Promise<Netns> {
    const name = `${prefix}-${randomBytes(3).toString('hex')}`;
    await execa('ip', ['netns', 'add', name]);
    await execa('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return new Netns(name);
  }

  /** Runs a command inside the namespace (optionally fed `input`); returns stdout. */
  async exec(
    argv: string[],
    opts: { reject?: boolean; input?: string } = {},
  ): Promise<{ stdout: string; exitCode: number | undefined }> {
    const r = await execa('ip', ['netns', 'exec', this.name, ...argv], {
      reject: opts.reject ?? true,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
    if (/exec of ".*" failed/.test(String(r.stderr)))
      throw new Error(`${argv[0]} is not installed: ${String(r.stderr)}`);
    return { stdout: String(r.stdout), exitCode: r.exitCode };
  }

  /**
   * tcpdump on one of the namespace's devices (tcpdump decodes VXLAN on port 4789): ready once it
   * listens; stop() returns one line per packet.
   */
  capture(dev: string, filter: string): { ready: Promise<void>; stop: () => Promise<string[]> } {
    const proc: ResultPromise = execa(
      'ip',
      ['netns', 'exec', this.name, 'tcpdump', '-i', dev, '-nn', '-l', filter],
      { reject: false, buffer: true },
    );
    const ready = new Promise<void>((resolve) =>
      proc.stderr!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve()),
    );
    return {
      ready,
      stop: async () => {
        proc.kill('SIGINT');
        const r = await proc;
        return String(r.stdout).split('\n').filter(Boolean);
      },
    };
  }

  async ping(address: string, count = 2): Promise<boolean> {
    const r = await this.exec(['ping', '-c', String(count), '-W', '1', '-i', '0.2', address], {
      reject: false,
    });
    return r.exitCode === 0;
  }

  /** Ends the daemons still running in it (dnsmasq, wireguard-go), which would keep it alive. */
  async delete(): Promise<void> {
    const pids = await execa('ip', ['netns', 'pids', this.name], { reject: false });
    for (const pid of String(pids.stdout).split(/\s+/).filter(Boolean))
      try {
        process.kill(Number(pid), 'SIGTERM');
      } catch {
        // already gone
      }
    await execa('ip', ['netns', 'del', this.name], { reject: false });
  }
}

/** A veth pair between two namespaces: `aDev` in `a`, `bDev` in `b`. */
export async function linkNamespaces(
  a: Netns,
  aDev: string,
  b: Netns,
  bDev: string,
): Promise<void> {
  await execa('ip', [
    'link',
    'add',
    aDev,
    'netns',
    a.name,
    'type',
    'veth',
    'peer',
    'name',
    bDev,
    'netns',
    b.name,
  ]);
}

/**
 * Hosts as namespaces on one L2 underlay: a bridge `ub` in its own namespace and, per host, a veth
 * whose host end is `eth0` with address `<prefix>.<i + 1>/24`.
 */
export class Underlay {
  private constructor(
    readonly ns: Netns,
    readonly hosts: Netns[],
    private readonly prefix: string,
  ) {}

  static async create(count: number, prefix: string): Promise<Underlay> {
    const ns = await Netns.create('qund');
    const underlay = new Underlay(ns, [], prefix);
    await ns.exec(['ip', 'link', 'add', 'ub', 'type', 'bridge']);
    await ns.exec(['ip', 'link', 'set', 'ub', 'up']);
    for (let i = 0; i < count; i++) {
      const host = await Netns.create('qhost');
      underlay.hosts.push(host);
      await linkNamespaces(ns, `u${i}`, host, 'eth0');
      await ns.exec(['ip', 'link', 'set', `u${i}`, 'master', 'ub', 'up']);
      await host.exec(['ip', 'addr', 'add', `${underlay.ip(i)}/24`, 'dev', 'eth0']);
      await host.exec(['ip', 'link', 'set', 'eth0', 'up']);
    }
    return underlay;
  }

  /** Underlay address of host i. */
  ip(i: number): string {
    return `${this.prefix}.${i + 1}`;
  }

  async delete(): Promise<void> {
    await Promise.all([this.ns, ...this.hosts].map((n) => n.delete()));
  }
}
