import http from 'node:http';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { busRequest, encodeJson } from '@qnet/bus';
import { TestCluster } from '@qnet/testing';
import { closedLoop, round, type LoadResult } from './measure.js';

/**
 * B1: HTTP → gateway → NATS → network-registry → PostgreSQL write (+ JetStream event) → reply,
 * against the floor measured in the same run: raw NATS request/reply plus a raw pg INSERT from one
 * Node process.
 */
export interface B1Result {
  name: string;
  operation: string;
  floor: LoadResult[];
  product: LoadResult[];
  /** CPU milliseconds each process spent per request during the product runs at concurrency 32. */
  cpu_ms_per_request: Record<string, number>;
  verdict: {
    concurrency: number;
    throughput_ratio: number;
    p99_ratio: number;
    meets_target: boolean;
  }[];
}

const CONCURRENCY = [1, 32];

/** utime + stime of a process, in ms (clock ticks are 10 ms on Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
const HOSTS = 256;

function httpPost(agent: http.Agent, port: number, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function measureFloor(cluster: TestCluster, durationMs: number): Promise<LoadResult[]> {
  const nc = await cluster.connectAs('network-registry');
  const pool = new pg.Pool({ connectionString: cluster.db.url, max: 10 });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, v jsonb NOT NULL)',
  );
  nc.subscribe('qnet.rpc.registry.BenchFloor', {
    callback: (_e, m) => {
      void pool
        .query('INSERT INTO bench_floor (v) VALUES ($1)', [m.string()])
        .then(() => m.respond(encodeJson({ data: {} })));
    },
  });
  let i = 0;
  const results: LoadResult[] = [];
  for (const c of CONCURRENCY)
    results.push(
      await closedLoop(
        () => busRequest(nc, 'qnet.rpc.registry.BenchFloor', { n: i++ }),
        c,
        durationMs,
      ),
    );
  await nc.close();
  await pool.end();
  return results;
}

export async function runB1(durationMs: number): Promise<B1Result> {
  const cluster = await TestCluster.create({ env: { LOG_LEVEL: 'warn' } });
  try {
    await cluster.startServices(['registry']);
    await cluster.startGateway();
    // Writes are spread over many hosts, as the floor's inserts are distinct rows: concurrent
    // updates of one row would measure PostgreSQL's row lock, not this path.
    await cluster.db.query(
      `INSERT INTO network_registry.hosts (id, hostname, underlay_ip, mode, agent_version)
       SELECT 'bench-' || i, 'bench', '127.0.0.1', 'dry-run', 'bench' FROM generate_series(0, $1 - 1) i`,
      [HOSTS],
    );

    const floor = await measureFloor(cluster, durationMs);
    const port = cluster.deployment.gatewayPort;
    const product: LoadResult[] = [];
    const pids: Record<string, number> = {
      gateway: cluster.apps.get('gateway')!.child.pid!,
      'network-registry': cluster.apps.get('network-registry')!.child.pid!,
      'bench client': process.pid,
    };
    let cpu: Record<string, number> = {};
    let i = 0;
    for (const c of CONCURRENCY) {
      const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
      const keepAlive = new http.Agent({ keepAlive: true, maxSockets: c });
      product.push(
        await closedLoop(
          () =>
            httpPost(
              keepAlive,
              port,
              '/limiquantix.network.v1.NetworkRegistryService/UpdateHost',
              JSON.stringify({ host_id: `bench-${i % HOSTS}`, labels: { n: String(i++) } }),
            ),
          c,
          durationMs,
        ),
      );
      keepAlive.destroy();
      const requests = product[product.length - 1]!.requests;
      cpu = Object.fromEntries(
        Object.entries(pids).map(([k, pid]) => [k, round((cpuMs(pid) - before[k]!) / requests, 2)]),
      );
    }
    const verdict = CONCURRENCY.map((c, k) => {
      const throughput_ratio = round(product[k]!.rps / floor[k]!.rps, 2);
      const p99_ratio = round(product[k]!.p99_ms / floor[k]!.p99_ms, 2);
      return {
        concurrency: c,
        throughput_ratio,
        p99_ratio,
        meets_target: throughput_ratio >= 0.5 && p99_ratio <= 3,
      };
    });
    return {
      name: 'B1',
      operation: 'POST …NetworkRegistryService/UpdateHost (UPDATE … RETURNING + JetStream event)',
      floor,
      product,
      cpu_ms_per_request: cpu,
      verdict,
    };
  } finally {
    await cluster.teardown();
  }
}
