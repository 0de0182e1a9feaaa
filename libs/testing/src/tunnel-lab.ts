import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';
import { linkNamespaces, Netns, Underlay } from './netns.js';

const script = fileURLToPath(new URL('../scripts/probe-stream.mjs', import.meta.url));

/** A probe stream's outcome: `longest` consecutive lost datagrams (at 1,000 pps, the loss window in ms). */
export interface StreamResult {
  sent: number;
  lost: number;
  longest: number;
}

export interface EchoServer {
  /** Addresses the server heard from (it sees the routers' NAT addresses, not the tunnels'). */
  sources: Set<string>;
  stop(): Promise<void>;
}

/**
 * Seed 004's network in namespaces: endpoints and routing servers on one underlay (192.0.2.0/24),
 * and a business server behind the routers — each router's `eth1` on the business network
 * 203.0.113.0/24 and 2001:db8:b::/64, where the server is .100 / ::100.
 */
export class TunnelLab {
  static readonly BUSINESS_V4 = '203.0.113.100';
  static readonly BUSINESS_V6 = '2001:db8:b::100';
  static readonly ROUTES = ['203.0.113.0/24', '2001:db8:b::/64'];

  private constructor(
    readonly underlay: Underlay,
    readonly business: Netns,
    readonly endpoints: Netns[],
    readonly routers: Netns[],
  ) {}

  static async create(o: { endpoints: number; routers: number }): Promise<TunnelLab> {
    const underlay = await Underlay.create(o.endpoints + o.routers, '192.0.2');
    const business = await Netns.create('qbiz');
    const lab = new TunnelLab(
      underlay,
      business,
      underlay.hosts.slice(0, o.endpoints),
      underlay.hosts.slice(o.endpoints),
    );
    await business.exec(['ip', 'link', 'add', 'bb', 'type', 'bridge']);
    await business.exec(['ip', 'link', 'set', 'bb', 'up']);
    await business.exec(['ip', 'addr', 'add', `${TunnelLab.BUSINESS_V4}/24`, 'dev', 'bb']);
    await business.exec(['ip', 'addr', 'add', `${TunnelLab.BUSINESS_V6}/64`, 'dev', 'bb', 'nodad']);
    for (const [i, r] of lab.routers.entries()) {
      await linkNamespaces(business, `r${i}`, r, 'eth1');
      await business.exec(['ip', 'link', 'set', `r${i}`, 'master', 'bb', 'up']);
      await r.exec(['ip', 'addr', 'add', `${lab.routerBusinessIp(i, 4)}/24`, 'dev', 'eth1']);
      await r.exec([
        'ip',
        'addr',
        'add',
        `${lab.routerBusinessIp(i, 6)}/64`,
        'dev',
        'eth1',
        'nodad',
      ]);
      await r.exec(['ip', 'link', 'set', 'eth1', 'up']);
    }
    return lab;
  }

  endpointId = (i: number) => `ep-${i + 1}`;
  routerId = (i: number) => `rs-${i + 1}`;
  endpointUnderlayIp = (i: number) => this.underlay.ip(i);
  routerUnderlayIp = (i: number) => this.underlay.ip(this.endpoints.length + i);
  routerBusinessIp = (i: number, family: 4 | 6) =>
    family === 4 ? `203.0.113.${i + 1}` : `2001:db8:b::${i + 1}`;

  /** The environment of a router's agent (with ROUTING_SERVER and its controller's). */
  routerEnv(i: number): Record<string, string> {
    return {
      ROUTING_SERVER: 'true',
      ROUTING_EGRESS_INTERFACE: 'eth1',
      QNET_UNDERLAY_IP: this.routerUnderlayIp(i),
      ROUTING_INTERNAL_IP: this.routerUnderlayIp(i),
      ROUTING_EXTERNAL_IP: this.routerUnderlayIp(i),
    };
  }

  endpointEnv(i: number): Record<string, string> {
    return { TUNNEL_ENDPOINT: 'true', QNET_UNDERLAY_IP: this.endpointUnderlayIp(i) };
  }

  /** A UDP echo server on the business server, on both its addresses. */
  async startEcho(port: number): Promise<EchoServer> {
    const sources = new Set<string>();
    const procs: ResultPromise[] = [];
    for (const address of [TunnelLab.BUSINESS_V4, TunnelLab.BUSINESS_V6]) {
      const proc = execa(
        'ip',
        [
          'netns',
          'exec',
          this.business.name,
          process.execPath,
          script,
          'echo',
          address,
          String(port),
        ],
        { reject: false, stdin: 'ignore', buffer: false },
      );
      procs.push(proc);
      await new Promise<void>((resolve, reject) => {
        proc.stdout!.on('data', (d: Buffer) => {
          for (const line of d.toString().split('\n').filter(Boolean))
            if (line === 'ready') resolve();
            else sources.add(line);
        });
        void proc.then((r) => reject(new Error(`echo server exited: ${String(r.stderr)}`)));
      });
    }
    return {
      sources,
      stop: async () => {
        for (const p of procs) p.kill('SIGKILL');
        await Promise.all(procs);
      },
    };
  }

  /** Numbered datagrams of `bytes` from `from` at `pps` for `ms`, each echoed back by `dest`. */
  async stream(
    from: Netns,
    dest: string,
    port: number,
    pps: number,
    ms: number,
    bytes = 32,
  ): Promise<StreamResult> {
    const r = await execa('ip', [
      'netns',
      'exec',
      from.name,
      process.execPath,
      script,
      'send',
      dest,
      String(port),
      String(pps),
      String(ms),
      String(bytes),
    ]);
    return JSON.parse(String(r.stdout)) as StreamResult;
  }

  async delete(): Promise<void> {
    await Promise.all([this.underlay.delete(), this.business.delete()]);
  }
}
