import type { NatsConnection } from '@nats-io/transport-node';
import type { DecisionPush, EventEnvelope } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';
import { closedLoop, round } from './measure.js';

/**
 * B8: the tunnel balancer with 10,000 endpoints over 1,000 routing servers (bulk-loaded with SQL).
 * Measures GET /decision throughput on the seed's listener, the service's own time for a full
 * re-evaluation (its round log) after one metrics round of 1,000 reports, and failover latency:
 * from the server.inactive event (the router declared inactive) to each affected endpoint having
 * received its pushed decision, against the seed's 10 s polling interval.
 */
export interface B8Result {
  figures: Record<string, string | number>;
}

const ROUTERS = 1_000;
const ENDPOINTS = 10_000;
const SEED_POLL_MS = 10_000;

const load = (i: number) => ({
  cpu_percent: (i * 37) % 100,
  memory_percent: (i * 53) % 100,
  bandwidth_mbps: (i * 71) % 1000,
  active_tunnels: (i * 13) % 100,
});

export async function runB8(durationMs: number): Promise<B8Result> {
  const cluster = await TestCluster.create({
    env: { LOG_LEVEL: 'info', TUNNEL_ANTI_FLAP_HOLD_MS: '0', TUNNEL_REPORT_INTERVAL_MS: '10000' },
  });
  try {
    await cluster.startServices(['tunnel']);
    const serviceUp = Date.now();
    const observer = await cluster.connectAs('observer');
    const pushes = collect(observer, 'qnet.tunnel.decision.*');
    const q = (sql: string, p: unknown[] = []) => cluster.db.query(sql, p);
    // Scores as the service computes them (default weights), for 1,000 distinct loads.
    await q(`INSERT INTO tunnel_balancer.routing_servers (server_id, server_name, internal_ip, external_ip,
        cpu_percent, memory_percent, bandwidth_mbps, active_tunnels, score)
      SELECT 'r' || i, 'Router ' || i, '192.168.' || (i / 250) || '.' || (i % 250 + 1), '2001:db8::' || to_hex(i),
        (i * 37) % 100, (i * 53) % 100, (i * 71) % 1000, (i * 13) % 100,
        0.3 * (1 - ((i * 37) % 100) / 100.0) + 0.2 * (1 - ((i * 53) % 100) / 100.0)
          + 0.3 * (1 - ((i * 71) % 1000) / 1000.0) + 0.2 * (1 - ((i * 13) % 100) / 100.0)
      FROM generate_series(1, ${ROUTERS}) i`);
    await q(`INSERT INTO tunnel_balancer.endpoints (endpoint_id, changed_at)
      SELECT 'ep-' || i, now() - interval '1 hour' FROM generate_series(1, ${ENDPOINTS}) i`);
    await waitFor(async () => pushes.count() >= ENDPOINTS, 30_000, 'initial decisions');
    const initialRound = await lastRoundMs(cluster);
    const initialSpread = await primariesPerRouter(q);

    const base = cluster.seedUrl('tunnel');
    let n = 0;
    const readDecisions = () =>
      closedLoop(
        async () => {
          const res = await fetch(`${base}/decision/ep-${(n++ % ENDPOINTS) + 1}`);
          if (!res.ok) throw new Error(String(res.status));
          await res.arrayBuffer();
        },
        32,
        durationMs,
      );
    // While the rounds after the initial one still move endpoints (projected loads settling).
    const decisions = await readDecisions();

    // One metrics round: every router reports new numbers (shifted, so many endpoints move).
    const started = performance.now();
    await Promise.all(
      Array.from({ length: ROUTERS }, (_, k) =>
        fetch(`${base}/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            server_id: `r${k + 1}`,
            server_name: `Router ${k + 1}`,
            internal_ip: '192.168.0.1',
            external_ip: '2001:db8::1',
            ...load(k + 7),
          }),
        }).then((r) => r.arrayBuffer()),
      ),
    );
    const ingestS = (performance.now() - started) / 1000;
    const roundsBefore = (await rounds(cluster)).length;
    await waitFor(
      async () => (await rounds(cluster)).length > roundsBefore,
      15_000,
      'round after metrics',
    );
    const metricsRound = (await rounds(cluster)).at(-1)!;
    // The rounds after it settle the endpoints the reports have not caught up with yet: wait for
    // a steady state (no round with a change for 3 s), counting the rounds and moves until then.
    let settled = (await rounds(cluster)).length;
    for (let quiet = 0; quiet < 3;) {
      await new Promise((r) => setTimeout(r, 1_000));
      const now = (await rounds(cluster)).length;
      quiet = now === settled ? quiet + 1 : 0;
      settled = now;
    }
    const settling = (await rounds(cluster)).slice(roundsBefore);
    const metricsSpread = await primariesPerRouter(q);
    // Rounds still run every second, but decide nothing new.
    const steadyDecisions = await readDecisions();

    // Failover: the router holding the most endpoints goes silent; every other one just reported.
    const [top] = await q(
      `SELECT primary_router_id AS id, count(*)::int AS n FROM tunnel_balancer.endpoints
       GROUP BY 1 ORDER BY 2 DESC LIMIT 1`,
    );
    const { id: victim, n: affected } = top as { id: string; n: number };
    // A balancer counts silence from its own start: wait until 3 missed 10 s reports can be seen.
    await new Promise((r) => setTimeout(r, Math.max(0, serviceUp + 31_000 - Date.now())));
    const declared = collect(observer, 'qnet.evt.tunnel.server.inactive');
    const before = pushes.count();
    const failovers = () =>
      pushes.messages.slice(before).filter((m) => (m.body as DecisionPush).reason === 'failover');
    await q(
      `UPDATE tunnel_balancer.routing_servers SET last_seen_at = CASE WHEN server_id = $1
         THEN now() - interval '1 hour' ELSE now() END`,
      [victim],
    );
    await waitFor(async () => failovers().length >= affected, 30_000, 'failover pushes');
    // The event leaves through JetStream's publish path and may arrive after the pushes.
    await waitFor(async () => declared.count() > 0, 5_000, 'server.inactive event');
    const at = Date.parse((declared.messages[0]!.body as EventEnvelope).occurred_at);
    const lat = failovers()
      .map((m) => m.at - at)
      .sort((a, b) => a - b);
    const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
    const moved = failovers().map((m) => (m.body as DecisionPush).optimal_router_id);
    const survivorsTaking = new Set(moved).size;
    return {
      figures: {
        'routing servers / endpoints': `${ROUTERS} / ${ENDPOINTS}`,
        'initial full evaluation (10,000 new endpoints decided, committed, pushed)': `${initialRound} ms`,
        'GET /decision at concurrency 32, while rounds move endpoints': `${decisions.rps} decisions/s, p50 ${decisions.p50_ms} ms, p99 ${decisions.p99_ms} ms`,
        'one metrics round: 1,000 POST /metrics': `${round(ingestS, 2)} s (${round(ROUTERS / ingestS)} reports/s)`,
        'full re-evaluation after that round': `${metricsRound.ms} ms (${metricsRound.changed} decisions changed)`,
        'rounds with a change until steady, and their moves': `${settling.length} rounds, ${settling.map((r) => r.changed).join(' + ')}`,
        'endpoints per router as primary, min / mean / max: after the initial evaluation':
          initialSpread,
        'endpoints per router as primary, min / mean / max: steady after the metrics round':
          metricsSpread,
        'GET /decision at concurrency 32, steady rounds': `${steadyDecisions.rps} decisions/s, p50 ${steadyDecisions.p50_ms} ms, p99 ${steadyDecisions.p99_ms} ms`,
        'failover: endpoints moved off the silent router': lat.length,
        'failover: routers that took them': survivorsTaking,
        'failover: declared inactive → endpoint has its new decision': `p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`,
        "the seed's 10 s polling instead": `mean ${SEED_POLL_MS / 2} ms, worst ${SEED_POLL_MS} ms after the same declaration`,
      },
    };
  } finally {
    await cluster.teardown();
  }
}

/** How many endpoints each active router is primary for: "min / mean / max". */
async function primariesPerRouter(q: (sql: string) => Promise<unknown[]>): Promise<string> {
  const [row] =
    (await q(`SELECT min(n)::int AS min, round(avg(n), 1)::float AS mean, max(n)::int AS max
      FROM (SELECT r.server_id, count(e.endpoint_id) AS n FROM tunnel_balancer.routing_servers r
            LEFT JOIN tunnel_balancer.endpoints e ON e.primary_router_id = r.server_id
            WHERE r.active GROUP BY 1) per_router`)) as {
      min: number;
      mean: number;
      max: number;
    }[];
  return `${row!.min} / ${row!.mean} / ${row!.max}`;
}

function collect(nc: NatsConnection, subject: string) {
  const messages: { at: number; body: unknown }[] = [];
  nc.subscribe(subject, {
    callback: (_e, m) => void messages.push({ at: Date.now(), body: m.json() }),
  });
  return { messages, count: () => messages.length };
}

async function rounds(cluster: TestCluster): Promise<{ ms: number; changed: number }[]> {
  return (await cluster.logs('tunnel-balancer'))
    .map((l) => /round: .* in ([\d.]+) ms, (\d+) decision/.exec(String(l.msg)))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ ms: Number(m[1]), changed: Number(m[2]) }));
}

async function lastRoundMs(cluster: TestCluster): Promise<number> {
  await waitFor(async () => (await rounds(cluster)).length > 0, 5_000, 'round log');
  return (await rounds(cluster)).at(-1)!.ms;
}
