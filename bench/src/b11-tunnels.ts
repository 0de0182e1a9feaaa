import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DriverStatus } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { TestCluster, TunnelLab, TunnelNetwork, type Netns } from '@qnet/testing';
import { latencySeries, quantile, round } from './measure.js';

const ECHO_PORT = 7000;
const HOLD_MS = 2_000;
const FAILOVERS = Number(process.env.BENCH_B11_FAILOVERS ?? 10);
const MOVES = Number(process.env.BENCH_B11_MOVES ?? 3);
const THROUGHPUT_RUNS = 3;
const PEER_SAMPLES = 20;

/**
 * B11: seed 004's failover on the data plane — the loss window of a 1,000 pps probe stream from an
 * endpoint to the business server while the link of the router carrying its routes dies (10
 * trials; target p99 < 100 ms), and planned moves (a better router appears; target 0 lost).
 * B12: one tunnel's TCP throughput (iperf3) against a wireguard-go tunnel configured by hand
 * between the same two namespaces in the same run (target ≥ 0.9×), and what adding one more
 * endpoint costs a routing server at ~10 and at ~1,000 endpoints (register → the routers named by
 * its decision applied the new peer; target: flat, ≤ 2×, as B6).
 */
export interface B11Result {
  failover_loss_ms: number[];
  failover_p50_ms: number;
  failover_p99_ms: number;
  planned_move_lost: number[];
  meets_target: boolean;
  throughput: {
    product_mbps: number[];
    by_hand_mbps: number[];
    ratio: number;
    /** iperf3 runs that ended in an error (a reset connection): B12 then misses. */
    failures: string[];
  };
  one_more_endpoint: {
    at_10: { p50_ms: number; p99_ms: number };
    at_1000: { p50_ms: number; p99_ms: number };
    ratio: number;
  };
  b12_meets_target: boolean;
  figures: Record<string, string | number>;
}

/** A deployed TunnelLab with the benchmark's intervals and `env`, torn down after `use`. */
async function withTunnels<T>(
  env: Record<string, string>,
  use: (net: TunnelNetwork) => Promise<T>,
): Promise<T> {
  const lab = await TunnelLab.create({ endpoints: 2, routers: 3 });
  const cluster = await TestCluster.create({
    hostIds: ['ep-1', 'ep-2', 'rs-1', 'rs-2', 'rs-3'],
    env: {
      ...TunnelNetwork.ENV,
      LOG_LEVEL: 'warn',
      DEVICE_BOOTSTRAP_PSK: 'bootstrap-psk-for-the-tunnel-benchmark',
      ...env,
    },
  });
  try {
    return await use(await TunnelNetwork.deploy(cluster, lab));
  } finally {
    await cluster.teardown();
    await lab.delete();
  }
}

export async function runB11(): Promise<B11Result> {
  const { losses, moves } = await withTunnels(
    {
      TUNNEL_ANTI_FLAP_HOLD_MS: String(HOLD_MS),
      // Routers sharing one machine: scores from egress and tunnels only (tunnels.test.ts).
      TUNNEL_WEIGHT_CPU: '0',
      TUNNEL_WEIGHT_MEMORY: '0',
      TUNNEL_MAX_BANDWIDTH_MBPS: '20',
    },
    async (net) => {
      const echo = await net.lab.startEcho(ECHO_PORT);
      const losses: number[] = [];
      for (let i = 0; i < FAILOVERS; i++) losses.push((await net.failover(ECHO_PORT)).longest);
      const moves: number[] = [];
      for (let i = 0; i < MOVES; i++) {
        const m = await net.plannedMove(ECHO_PORT, HOLD_MS);
        moves.push(m.moved ? m.lost : NaN);
      }
      await echo.stop();
      return { losses, moves };
    },
  );
  // B12 on routers that stay put: a move changes an endpoint's NAT address, which ends TCP
  // connections (iperf3's among them) whichever router it goes to.
  const { throughput, oneMore } = await withTunnels(
    {
      TUNNEL_ANTI_FLAP_HOLD_MS: '3600000',
      // A pool for the 1,000 endpoints of oneMoreEndpoint (the seed's has 254 addresses).
      DEVICE_TUN_IPV4_BASE: '10.10.96.0',
      DEVICE_TUN_IPV4_END: '4000',
      // Live reports at the default period: a router's lists every peer.
      DRIVER_STATUS_INTERVAL_MS: '5000',
    },
    async (net) => ({
      throughput: await compareThroughput(net),
      oneMore: await oneMoreEndpoint(net),
    }),
  );

  const p50 = round(quantile(losses, 0.5));
  const p99 = round(quantile(losses, 0.99));
  const meets = p99 < 100 && moves.every((l) => l === 0);
  const throughputMeets = throughput.ratio >= 0.9 && !throughput.failures.length;
  const b12 = throughputMeets && oneMore.ratio <= 2;
  return {
    failover_loss_ms: losses,
    failover_p50_ms: p50,
    failover_p99_ms: p99,
    planned_move_lost: moves,
    meets_target: meets,
    throughput,
    one_more_endpoint: oneMore,
    b12_meets_target: b12,
    figures: {
      [`B11 failover: loss window of a 1,000 pps stream, ${FAILOVERS} trials (ms)`]:
        losses.join(', '),
      'B11 failover p50 / p99 (target p99 < 100 ms)': `${p50} / ${p99} ms — ${p99 < 100 ? 'meets' : 'MISSES'}`,
      [`B11 planned moves: probes lost of 6,000 (target 0)`]: `${moves.join(', ')} — ${moves.every((l) => l === 0) ? 'meets' : 'MISSES'}`,
      'B12 iperf3 through the product tunnel (Mbit/s)': throughput.product_mbps.join(', '),
      'B12 iperf3 through wireguard-go configured by hand (Mbit/s)':
        throughput.by_hand_mbps.join(', '),
      'B12 iperf3 runs that failed': throughput.failures.join('; ') || 'none',
      'B12 throughput, product / by hand (medians; target ≥ 0.9×, no failed run)': `${throughput.ratio}× — ${throughputMeets ? 'meets' : 'MISSES'}`,
      'B12 one more endpoint → its routers applied, ~10 endpoints: p50 / p99 ms': `${oneMore.at_10.p50_ms} / ${oneMore.at_10.p99_ms}`,
      'B12 one more endpoint → its routers applied, ~1,000 endpoints: p50 / p99 ms': `${oneMore.at_1000.p50_ms} / ${oneMore.at_1000.p99_ms}`,
      'B12 1,000 vs 10 endpoints (p50; target ≤ 2×)': `${oneMore.ratio}× — ${oneMore.ratio <= 2 ? 'meets' : 'MISSES'}`,
    },
  };
}

/** iperf3 TCP for 5 s from `from` to a one-test server on `server`: received Mbit/s. */
async function iperf(from: Netns, server: Netns, dest: string): Promise<number> {
  const listening = execa('ip', ['netns', 'exec', server.name, 'iperf3', '-s', '-1'], {
    reject: false,
  });
  try {
    await waitFor(
      async () => (await server.exec(['ss', '-Hltn', 'sport = :5201'])).stdout.trim() !== '',
      5_000,
      'iperf3 listening',
    );
    const r = await from.exec(['iperf3', '-c', dest, '-t', '5', '-J'], { reject: false });
    const out = JSON.parse(r.stdout || '{}') as {
      error?: string;
      end?: { sum_received?: { bits_per_second: number } };
    };
    const bps = out.end?.sum_received?.bits_per_second;
    if (bps === undefined) throw new Error(`iperf3 to ${dest}: ${out.error ?? r.stdout}`);
    return round(bps / 1e6);
  } finally {
    listening.kill();
    await listening;
  }
}

/**
 * The same endpoint and router namespaces joined a second time by hand (wg set, ip, one nft
 * masquerade rule), to a second business address routed through it: both tunnels cross the same
 * underlay and NAT, so the ratio is the product's own cost.
 */
async function compareThroughput(net: TunnelNetwork): Promise<B11Result['throughput']> {
  const { lab } = net;
  const ep = lab.endpoints[0]!;
  const d = await net.decision('ep-1');
  const router = net.router(d.optimal_router_id);
  const routerIp = lab.routerUnderlayIp(Number(d.optimal_router_id.split('-')[1]) - 1);
  const HAND_DEST = '203.0.113.200';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'qnet-b12-'));
  const key = async (name: string) => {
    const priv = (await execa('wg', ['genkey'])).stdout.trim();
    await writeFile(path.join(dir, name), priv, { mode: 0o600 });
    return (await execa('wg', ['pubkey'], { input: priv })).stdout.trim();
  };
  const [epKey, rtKey] = [await key('ep.key'), await key('rt.key')];
  try {
    await lab.business.exec(['ip', 'addr', 'add', `${HAND_DEST}/24`, 'dev', 'bb']);
    await router.exec(['wireguard-go', 'hw1']);
    await router.exec([
      'wg',
      'set',
      'hw1',
      'private-key',
      path.join(dir, 'rt.key'),
      'listen-port',
      '51900',
      'peer',
      epKey,
      'allowed-ips',
      '10.99.99.2/32',
    ]);
    await router.exec(['ip', 'addr', 'add', '10.99.99.1/24', 'dev', 'hw1']);
    await router.exec(['ip', 'link', 'set', 'hw1', 'mtu', '1400', 'up']);
    await router.exec(['nft', '-f', '-'], {
      input:
        'table ip hand {\n chain post {\n  type nat hook postrouting priority srcnat; policy accept;\n  iifname "hw1" oifname "eth1" masquerade\n }\n}\n',
    });
    await ep.exec(['wireguard-go', 'hw0']);
    await ep.exec([
      'wg',
      'set',
      'hw0',
      'private-key',
      path.join(dir, 'ep.key'),
      'peer',
      rtKey,
      'endpoint',
      `${routerIp}:51900`,
      'allowed-ips',
      '0.0.0.0/0',
      'persistent-keepalive',
      '10',
    ]);
    await ep.exec(['ip', 'addr', 'add', '10.99.99.2/32', 'dev', 'hw0']);
    await ep.exec(['ip', 'link', 'set', 'hw0', 'mtu', '1400', 'up']);
    await ep.exec(['ip', 'route', 'add', '10.99.99.1/32', 'dev', 'hw0']);
    await ep.exec(['ip', 'route', 'add', `${HAND_DEST}/32`, 'dev', 'hw0', 'src', '10.99.99.2']);
    await waitFor(
      async () =>
        (await ep.exec(['ping', '-c', '1', '-W', '1', HAND_DEST], { reject: false })).exitCode ===
        0,
      10_000,
      'the hand tunnel',
    );
    const product: number[] = [];
    const byHand: number[] = [];
    const failures: string[] = [];
    const measure = (into: number[], dest: string) =>
      iperf(ep, lab.business, dest).then(
        (mbps) => into.push(mbps),
        (err: Error) => failures.push(err.message),
      );
    for (let i = 0; i < THROUGHPUT_RUNS; i++) {
      await measure(product, TunnelLab.BUSINESS_V4);
      await measure(byHand, HAND_DEST);
    }
    return {
      product_mbps: product,
      by_hand_mbps: byHand,
      ratio: round(quantile(product, 0.5) / quantile(byHand, 0.5), 2),
      failures,
    };
  } finally {
    await ep.exec(['ip', 'link', 'del', 'hw0'], { reject: false });
    await router.exec(['ip', 'link', 'del', 'hw1'], { reject: false });
    await router.exec(['nft', 'delete', 'table', 'ip', 'hand'], { reject: false });
    await lab.business.exec(['ip', 'addr', 'del', `${HAND_DEST}/24`, 'dev', 'bb'], {
      reject: false,
    });
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Endpoints registered by the operator with a key (agents of their own would not change what a
 * router does): the time from the registration to both routers of its decision having applied it.
 */
async function oneMoreEndpoint(net: TunnelNetwork): Promise<B11Result['one_more_endpoint']> {
  const { cluster } = net;
  const applied = new Map<string, number>();
  const observer = await cluster.connectAs('observer');
  observer.subscribe('qnet.agent.*.status.tunnel', {
    callback: (_e, m) => {
      const s = m.json<DriverStatus>();
      if (s.changes.length) applied.set(s.host_id, performance.now());
    },
  });
  let n = 0;
  const register = async () => {
    const id = `fake-${n++}`;
    const priv = (await execa('wg', ['genkey'])).stdout.trim();
    const key = (await execa('wg', ['pubkey'], { input: priv })).stdout.trim();
    await cluster.api('POST', '/api/v1/devices', {
      device_id: id,
      type: 'endpoint',
      name: id,
      public_key: key,
    });
    return id;
  };
  const sample = async () => {
    const t0 = performance.now();
    const id = await register();
    let routers: string[] = [];
    await waitFor(
      async () => {
        const d = await cluster.http<{ optimal_router_id?: string; backup_router_id?: string }>(
          'GET',
          `/api/v1/tunnel/decision/${id}`,
        );
        routers = [d.body.optimal_router_id, d.body.backup_router_id].filter((r): r is string =>
          Boolean(r),
        );
        return routers.length === 2 && routers.every((r) => (applied.get(r) ?? 0) > t0);
      },
      20_000,
      `${id} on its routers`,
    );
    return Math.max(...routers.map((r) => applied.get(r)!)) - t0;
  };
  while (n < 10) await register();
  const at10 = await latencySeries(PEER_SAMPLES, sample);
  while (n < 1_000) await Promise.all(Array.from({ length: 10 }, register));
  // Until the rounds and renders of the bulk have settled.
  await new Promise((r) => setTimeout(r, 5_000));
  const at1000 = await latencySeries(PEER_SAMPLES, sample);
  return { at_10: at10, at_1000: at1000, ratio: round(at1000.p50_ms / at10.p50_ms, 2) };
}
