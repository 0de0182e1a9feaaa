import {
  TUNNEL_DEVICE_ALIAS,
  TUNNEL_ROUTE_PROTO,
  type TunnelEndpointRouter,
  type TunnelEndpointSpec,
  type TunnelObserved,
  type TunnelSpec,
} from '@qnet/contracts';
import type { Driver } from '../driver.js';
import type { Executor } from '../executor.js';
import { fingerprintOf } from '../nft.js';
import { parseWgDump } from '../wireguard/observed.js';
import { layoutEndpoint, type EndpointLayout } from './layout.js';
import {
  observeTunnels,
  parseTunnelRoutes,
  wantedNames,
  type TunnelObservedHost,
} from './observed.js';
import { endpointLayout, planTunnel, usable } from './plan.js';
import { TunnelProber } from './prober.js';
import { renderTunnelTableBody } from './render.js';
import { parseTunnelSpec } from './spec.js';

export interface TunnelDriverOptions {
  /** The host's WireGuard private key: made by the agent, never on the bus. */
  privateKey: string;
  /** A routing server's egress interface, where tunnelled traffic leaves masqueraded. */
  egressInterface: string;
  /** The namespace the agent drives in netns mode: the prober runs inside it. */
  netns?: string;
  /** Runs the fast path's route move (the agent's executor). */
  exec: Executor;
  /** Probe tunnels (off in dry-run, where nothing real exists). */
  probe: boolean;
  /** Told of each local failover (the agent logs it). */
  onFailover?: (what: string) => void;
}

/** A WireGuard session lives at most this long without a handshake: a peer older is not active. */
export const SESSION_LIFETIME_S = 180;
/** A tunnel that never answered counts as failed once it has had this long to come up. */
const COME_UP_MS = 10_000;
/** The fast failover's route moves: an ip(8) batch the executor starts ahead of its use. */
const ROUTE_SWITCH = ['ip', '-force', '-batch', '-'];
/**
 * When a new tunnel has not answered yet, its peer is made anew after these delays: a handshake
 * that reached the router before the router had the endpoint's peer is otherwise retried by
 * WireGuard only after 5 s (REKEY_TIMEOUT).
 */
const RESTART_HANDSHAKE_MS = [1_000, 2_000, 4_000];

/** `o` with the endpoint's routes on `dev`. */
function withRoutesOn(
  o: TunnelObservedHost,
  e: TunnelEndpointSpec,
  dev: string,
): TunnelObservedHost {
  return {
    ...o,
    routes: o.routes.map((r) => (e.routes.includes(r.dst) ? { ...r, dev } : r)),
  };
}

export type TunnelDriver = Driver<TunnelSpec, TunnelObservedHost> & {
  /** A routing server's peers with a handshake within the session lifetime (its active tunnels). */
  activeTunnels(): Promise<number>;
};

/**
 * Seed 004's data plane on the host: a routing server's WireGuard listener with a peer per
 * endpoint, forwarding and NAT out of its egress; or an endpoint's two tunnels, probed every few
 * ms, whose routes move to the other tunnel — at once, without waiting for the control plane —
 * when the one carrying them stops answering, and make-before-break when the decision changes.
 */
export function tunnelDriver(opts: TunnelDriverOptions): TunnelDriver {
  const host = { privateKey: opts.privateKey, egressInterface: opts.egressInterface };
  let current: TunnelSpec = {};
  let changed: (report?: boolean) => void = () => undefined;
  /** The layout the last plan asked for: which router each slot holds, which carries the routes. */
  let last: EndpointLayout | undefined;
  /** Routers ever given to this endpoint, by public key (a draining slot's router is no longer in the spec). */
  const routers = new Map<string, TunnelEndpointRouter>();
  /** Routers this endpoint failed away from, while the decision still names them. */
  const avoided = new Set<string>();
  /** When each router's tunnel was set up, and whether it has answered since. */
  const since = new Map<string, { at: number; answered: boolean }>();
  let failovers = 0;
  /** Fast moves decided so far, and how many there had been when the last observation began. */
  let moves = 0;
  let movesObserved = 0;
  /** The apply of the last plan that changed something, while it runs. */
  let applying: { done: Promise<void>; end: () => void } | undefined;
  const prober = new TunnelProber(opts.netns, () => void onVerdict());

  const slotOf = (key: string) => last?.slots.find((s) => s.key === key);
  const health = (key: string): boolean | null => {
    const slot = slotOf(key);
    const r = routers.get(key);
    return (slot && r && prober.report({ dev: slot.name, ip: r.ipv4 })?.up) ?? null;
  };
  const live = () => ({
    health: new Map([...routers.keys()].map((k) => [k, health(k)])),
    avoided: new Set(avoided),
  });

  /** After each endpoint plan: probe what the slots will hold, and note when each came in. */
  function remember(e: TunnelEndpointSpec, layout: EndpointLayout): void {
    last = layout;
    const held = new Set(layout.slots.flatMap((s) => (s.key ? [s.key] : [])));
    for (const k of since.keys()) if (!held.has(k)) since.delete(k);
    for (const k of routers.keys())
      if (!held.has(k) && !e.routers.some((r) => r.public_key === k)) routers.delete(k);
    for (const k of held)
      if (!since.has(k)) {
        since.set(k, { at: Date.now(), answered: false });
        if (opts.probe) restartHandshake(k, 0);
      }
    if (!opts.probe) return;
    opts.exec.startAhead?.(ROUTE_SWITCH);
    prober.probe(
      layout.slots.flatMap((s) => {
        const r = s.key ? routers.get(s.key) : undefined;
        return r ? [{ dev: s.name, ip: r.ipv4 }] : [];
      }),
      e.probe_interval_ms,
      e.probe_misses,
    );
  }

  /**
   * A tunnel's verdict changed. When the routes should now be elsewhere — the tunnel carrying them
   * stopped answering — they move at once (one `ip -batch`), before the agent reconciles and
   * reports; a planned move waits for that reconcile, which runs it make-before-break.
   */
  async function onVerdict(): Promise<void> {
    const heard = performance.now();
    for (const [k, s] of since) if (health(k) === true) s.answered = true;
    // An apply in flight may be giving a tunnel another router: decide on what it leaves.
    await applying?.done;
    const e = current.endpoint;
    if (e && last?.target !== undefined) {
      const next = layoutEndpoint(
        e,
        { keys: [last.slots[0].key, last.slots[1].key], routesOn: last.target },
        health,
        avoided,
      );
      const from = last.slots[last.target]?.key;
      if (
        next.target !== undefined &&
        next.target !== last.target &&
        from &&
        health(from) === false
      ) {
        avoided.add(from);
        failovers++;
        moves++;
        const to = last.slots[next.target]!.name;
        const what = `${last.slots[last.target]!.name} (${routers.get(from)?.router_id}) stopped answering: routes moved to ${to} (${routers.get(last.slots[next.target]!.key ?? '')?.router_id})`;
        last = { ...last, target: next.target };
        moveRoutes(e, to);
        opts.onFailover?.(`${what} in ${Math.round(performance.now() - heard)} ms`);
      }
    }
    changed(true);
  }

  /** Makes the peer of a tunnel that has not answered yet anew; the next reconcile adds it back. */
  function restartHandshake(key: string, attempt: number): void {
    const delay = RESTART_HANDSHAKE_MS[attempt];
    if (delay === undefined) return;
    setTimeout(() => {
      void (async () => {
        await applying?.done;
        const slot = slotOf(key);
        if (!slot || since.get(key)?.answered || health(key) === true) return;
        await opts.exec.run(['wg', 'set', slot.name, 'peer', key, 'remove']).catch(() => undefined);
        changed();
        restartHandshake(key, attempt + 1);
      })();
    }, delay).unref();
  }

  function moveRoutes(e: TunnelEndpointSpec, dev: string): void {
    const lines = e.routes.map(
      (cidr) =>
        `route replace ${cidr} dev ${dev} src ${cidr.includes(':') ? e.ipv6 : e.ipv4} proto ${TUNNEL_ROUTE_PROTO}\n`,
    );
    // A line that fails has the host reconciled; -force still moves the other routes.
    void opts.exec.run(ROUTE_SWITCH, lines.join('')).catch(() => changed(true));
  }

  function failedRouters(e: TunnelEndpointSpec): string[] {
    const now = Date.now();
    const failed = [...since]
      .filter(([k, s]) => health(k) === false && (s.answered || now - s.at > COME_UP_MS))
      .map(([k]) => k);
    return [...new Set([...avoided, ...failed])]
      .map((k) => routers.get(k)?.router_id)
      .filter((id): id is string => id !== undefined && e.routers.some((r) => r.router_id === id));
  }

  async function dumps(exec: Executor, names: string[]) {
    return new Map(
      await Promise.all(
        names.map(
          async (n) =>
            [
              n,
              parseWgDump(
                (await exec.read(['wg', 'show', n, 'dump']).catch(() => ({ stdout: '' }))).stdout,
              ),
            ] as const,
        ),
      ),
    );
  }

  async function endpointStatus(exec: Executor, e: TunnelEndpointSpec): Promise<TunnelObserved> {
    const [routes, wg] = await Promise.all([
      exec.read(['ip', '-j', 'route', 'show', 'proto', TUNNEL_ROUTE_PROTO]),
      dumps(exec, e.interface_names),
    ]);
    const carrying = parseTunnelRoutes(routes.stdout).find((r) => e.routes.includes(r.dst))?.dev;
    const tunnels = e.interface_names.flatMap((name) => {
      const dump = wg.get(name);
      const peer = dump?.peers.length === 1 ? dump.peers[0]! : undefined;
      const r = peer && routers.get(peer.public_key);
      if (!peer || !r) return [];
      const report = prober.report({ dev: name, ip: r.ipv4 });
      return [
        {
          interface_name: name,
          router_id: r.router_id,
          role: e.routers.find((x) => x.public_key === r.public_key)?.role ?? ('draining' as const),
          up: report?.up ?? null,
          carries_routes: carrying === name,
          latest_handshake: peer.latest_handshake,
          rx_bytes: peer.rx_bytes,
          tx_bytes: peer.tx_bytes,
          rtt_ms: report?.rtt_ms ?? null,
        },
      ];
    });
    return {
      endpoint: {
        tunnels,
        active_router_id: tunnels.find((t) => t.carries_routes)?.router_id ?? '',
        failed_router_ids: failedRouters(e),
        failovers,
      },
    };
  }

  async function routerStatus(exec: Executor): Promise<TunnelObserved> {
    const r = current.router!;
    const dump = (await dumps(exec, [r.interface_name])).get(r.interface_name)!;
    const ids = new Map(r.peers.map((p) => [p.public_key, p.endpoint_id]));
    const now = Date.now() / 1000;
    const peers = dump.peers.flatMap((p) => {
      const id = ids.get(p.public_key);
      return id
        ? [
            {
              endpoint_id: id,
              endpoint: p.endpoint,
              latest_handshake: p.latest_handshake,
              rx_bytes: p.rx_bytes,
              tx_bytes: p.tx_bytes,
            },
          ]
        : [];
    });
    return {
      router: {
        interface_name: r.interface_name,
        listen_port: dump.listen_port,
        peers,
        active_peers: peers.filter(
          (p) => p.latest_handshake > 0 && now - p.latest_handshake <= SESSION_LIFETIME_S,
        ).length,
      },
    };
  }

  return {
    name: 'tunnel',
    parse: parseTunnelSpec,
    observe(exec, desired, previous) {
      movesObserved = moves;
      return observeTunnels(exec, desired, previous, live());
    },
    plan(desired, observed) {
      const e = desired.endpoint;
      // Routes the fast path moved while the host was being read are where it moved them.
      const seen =
        e && last?.target !== undefined && moves !== movesObserved
          ? withRoutesOn(observed, e, last.slots[last.target]!.name)
          : observed;
      const changes = planTunnel(desired, seen, host);
      if (e) remember(e, endpointLayout(e, seen));
      else {
        last = undefined;
        prober.stop();
      }
      if (changes.length && !applying) {
        let end = () => undefined as void;
        const done = new Promise<void>((resolve) => (end = resolve));
        applying = { done, end };
      }
      return changes;
    },
    applied() {
      applying?.end();
      applying = undefined;
    },
    unrealizable(desired, observed) {
      return Object.fromEntries(
        wantedNames(desired)
          .filter((n) => !usable(observed, n))
          .map((n) => [
            n,
            'exists and is not a WireGuard device: rename it or set tunnel.interface_name',
          ]),
      );
    },
    assumeApplied(spec): TunnelObservedHost {
      const e = spec.endpoint;
      const r = spec.router;
      const link = (name: string, addresses: string[], mtu: number) => ({
        name,
        up: true,
        mtu,
        alias: TUNNEL_DEVICE_ALIAS,
        addresses,
        wireguard: true,
        private_key: opts.privateKey,
        listen_port: r?.listen_port ?? 0,
        peers: [],
      });
      return {
        links: [
          ...(r ? [link(r.interface_name, [r.ipv4, r.ipv6], r.mtu)] : []),
          ...(e
            ? e.interface_names.map((n) => link(n, [`${e.ipv4}/32`, `${e.ipv6}/128`], e.mtu))
            : []),
        ],
        routes: [],
        forwarding: { v4: Boolean(r), v6: Boolean(r) },
        table: r ? fingerprintOf(renderTunnelTableBody(r, opts.egressInterface)) : undefined,
        kernel: false,
        health: new Map(),
        avoided: new Set(),
      };
    },
    follow(spec, onChange) {
      changed = onChange;
      const primary = spec.endpoint?.routers[0]?.public_key;
      // A new decision for this endpoint (another primary) ends what it was avoiding.
      if (primary !== current.endpoint?.routers[0]?.public_key) avoided.clear();
      for (const r of spec.endpoint?.routers ?? []) routers.set(r.public_key, r);
      current = spec;
      if (!spec.endpoint) prober.stop();
    },
    async status(exec) {
      if (exec.mode === 'dry-run') return undefined;
      if (current.endpoint) return endpointStatus(exec, current.endpoint);
      if (current.router) return routerStatus(exec);
      return {};
    },
    async activeTunnels() {
      if (!current.router || opts.exec.mode === 'dry-run') return 0;
      return (await routerStatus(opts.exec)).router?.active_peers ?? 0;
    },
    stop() {
      prober.stop();
    },
  };
}
