import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';
import type { DecisionView, DeviceView, TopologyEdgeView, TopologyView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import type { TestCluster } from './cluster.js';
import { linkNamespaces, Netns, Underlay } from './netns.js';

const script = fileURLToPath(new URL('../scripts/probe-stream.mjs', import.meta.url));

/** A probe stream's outcome: `longest` consecutive lost datagrams (at 1,000 pps, the loss window in ms). */
export interface StreamResult {
  sent: number;
  lost: number;
  longest: number;
  /** When the first datagram left (epoch ms), and the first 100 lost (sequence numbers). */
  started_at: number;
  lost_seqs: number[];
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

/**
 * A TunnelLab run by the product: the balancer and controller (with the registry and gateway) of
 * `cluster`, a real agent per namespace. The operator provisions the routers and every endpoint
 * but the first with their device names (wireguard-go keeps its control sockets in one directory
 * for every namespace, so names must be unique on one machine: rt<n>, ep<n>t0/1); the first
 * endpoint registers itself and keeps the default tun0/tun1, and the operator then gives it its
 * routes.
 */
export class TunnelNetwork {
  /**
   * The lab's periods, for clusters that deploy it: reports, rounds and statuses every 200–500 ms
   * so that tests see moves in seconds. A router counts as silent after 10 missed reports (5 s),
   * not the default 3: with five agents, seven wireguard-go and their probers on two cores, a
   * router's metrics arrived up to 2.3 s apart while nothing happened (measured), and 1.5 s of
   * silence flipped routers inactive and back, moving endpoints for nothing. The lab's failovers
   * are local (a dead link), which the endpoint reports itself; no router goes silent here.
   */
  static readonly ENV = {
    TUNNEL_REPORT_INTERVAL_MS: '500',
    TUNNEL_MISSED_REPORTS: '10',
    TUNNEL_EVALUATE_INTERVAL_MS: '200',
    ROUTING_METRICS_INTERVAL_MS: '500',
    DRIVER_STATUS_INTERVAL_MS: '500',
  };

  private constructor(
    readonly cluster: TestCluster,
    readonly lab: TunnelLab,
  ) {}

  /**
   * The cluster's env holds DEVICE_BOOTSTRAP_PSK (every app gets it: the agents sign with it)
   * and the intervals; its hostIds name every device.
   */
  static async deploy(cluster: TestCluster, lab: TunnelLab): Promise<TunnelNetwork> {
    if (!cluster.deployment.env.DEVICE_BOOTSTRAP_PSK)
      throw new Error('the cluster needs DEVICE_BOOTSTRAP_PSK');
    const net = new TunnelNetwork(cluster, lab);
    await cluster.startServices(['registry', 'tunnel', 'device']);
    await cluster.startGateway();
    for (const i of lab.routers.keys()) {
      const id = lab.routerId(i);
      await cluster.api('POST', '/api/v1/devices', {
        device_id: id,
        type: 'routing_server',
        name: id,
      });
      await cluster.api('POST', `/api/v1/devices/${id}/config`, {
        config: { tunnel: { interface_name: `rt${i + 1}` } },
      });
    }
    for (const i of lab.endpoints.keys()) {
      if (i === 0) continue;
      const id = lab.endpointId(i);
      await cluster.api('POST', '/api/v1/devices', { device_id: id, type: 'endpoint', name: id });
      await cluster.api('POST', `/api/v1/devices/${id}/config`, {
        config: { tunnel: { interface_name: `ep${i + 1}t0`, routes: TunnelLab.ROUTES } },
      });
    }
    for (const i of lab.routers.keys()) net.startRouter(i);
    for (const i of lab.endpoints.keys()) net.startEndpoint(i);
    const first = lab.endpointId(0);
    await waitFor(
      async () => Boolean((await net.device(first).catch(() => undefined))?.public_key),
      20_000,
      `${first} registered its key`,
    );
    await cluster.api('POST', `/api/v1/devices/${first}/config`, {
      config: { tunnel: { routes: TunnelLab.ROUTES } },
    });
    for (const i of lab.endpoints.keys())
      await waitFor(
        () => net.settled(lab.endpointId(i)),
        30_000,
        `${lab.endpointId(i)}: both tunnels up, routes on the primary`,
      );
    return net;
  }

  startRouter(i: number) {
    return this.startAgent(this.lab.routers[i]!, this.lab.routerId(i), this.lab.routerEnv(i));
  }

  startEndpoint(i: number) {
    return this.startAgent(this.lab.endpoints[i]!, this.lab.endpointId(i), this.lab.endpointEnv(i));
  }

  private startAgent(host: Netns, id: string, env: Record<string, string>) {
    return this.cluster.start(
      'node-agent',
      { hostId: id, mode: 'netns', netns: host.name },
      { ...env, DEVICE_CONTROLLER_URL: this.cluster.seedUrl('device') },
    );
  }

  device = (id: string) => this.cluster.api<DeviceView>('GET', `/api/v1/devices/${id}`);
  decision = (id: string) => this.cluster.api<DecisionView>('GET', `/api/v1/tunnel/decision/${id}`);
  /** The router namespace of a router id. */
  router = (id: string) => this.lab.routers[Number(id.split('-')[1]) - 1]!;

  /** An endpoint's tunnels as the topology shows them. */
  async edges(id: string): Promise<TopologyEdgeView[]> {
    return (await this.cluster.api<TopologyView>('GET', '/api/v1/devices/topology')).edges.filter(
      (e) => e.from_device_id === id,
    );
  }

  /** Both tunnels answer and the routes are on the primary's, as the endpoint reports it. */
  async settled(id: string): Promise<boolean> {
    const d = await this.decision(id).catch(() => undefined);
    const e = await this.edges(id);
    const primary = e.find((x) => x.to_device_id === d?.optimal_router_id);
    return (
      e.length === 2 &&
      e.every((x) => x.up === true) &&
      primary?.role === 'primary' &&
      primary.carries_routes === true
    );
  }

  /**
   * One local failover of the first endpoint: a 1,000 pps stream while the link of the router
   * carrying its routes dies; the link comes back once the balancer has followed the endpoint.
   */
  async failover(echoPort: number): Promise<StreamResult> {
    const id = this.lab.endpointId(0);
    await waitFor(() => this.settled(id), 40_000, `${id} settled`);
    const d = await this.decision(id);
    const dead = this.router(d.optimal_router_id);
    const stream = this.lab.stream(
      this.lab.endpoints[0]!,
      TunnelLab.BUSINESS_V4,
      echoPort,
      1000,
      2000,
    );
    await new Promise((r) => setTimeout(r, 700));
    await dead.exec(['ip', 'link', 'set', 'eth0', 'down']);
    try {
      const result = await stream;
      // Before the link is back: once it is, the endpoint's tunnel to the old primary answers
      // again, and a balancer that has not yet seen the failure has nothing left to follow.
      await waitFor(
        async () => (await this.decision(id)).optimal_router_id === d.backup_router_id,
        10_000,
        `the balancer follows ${id} to ${d.backup_router_id}`,
      );
      return result;
    } finally {
      await dead.exec(['ip', 'link', 'set', 'eth0', 'up']);
    }
  }

  /**
   * One planned move of the first endpoint: a 1,000 pps stream while ~10 Mbit/s leave its primary's
   * egress (not through a tunnel, to a port nobody answers) — half of TUNNEL_MAX_BANDWIDTH_MBPS=20
   * — until the balancer moves it. Needs the CPU and memory weights at 0 (one machine's readings).
   */
  async plannedMove(echoPort: number, holdMs: number): Promise<StreamResult & { moved: boolean }> {
    const id = this.lab.endpointId(0);
    await waitFor(() => this.settled(id), 40_000, `${id} settled`);
    await new Promise((r) => setTimeout(r, holdMs));
    const d = await this.decision(id);
    const busy = this.router(d.optimal_router_id);
    // Watched during the stream, not only after it: the stream's own traffic loads the router it
    // moved to, and once the busy router is quiet again the endpoint may be moved back before
    // the stream ends — a second move, which the stream covers too.
    let moved = false;
    let streaming = true;
    const watching = (async () => {
      while (streaming && !moved) {
        moved = (await this.decision(id)).optimal_router_id !== d.optimal_router_id;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const [[result]] = await Promise.all([
      Promise.all([
        this.lab.stream(this.lab.endpoints[0]!, TunnelLab.BUSINESS_V4, echoPort, 1000, 6000),
        this.lab.stream(busy, TunnelLab.BUSINESS_V4, 9, 1000, 4000, 1200),
      ]).finally(() => (streaming = false)),
      watching,
    ]);
    await waitFor(() => this.settled(id), 20_000, `${id} settled on its new primary`);
    return { ...result, moved };
  }
}
