import { once } from 'node:events';
import http from 'node:http';
import { execaNode } from 'execa';
import pg from 'pg';
import { busRequest, encodeJson, NATS_USERS } from '@qnet/bus';
import { freePort } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';
import { FLOOR_SCRIPT } from './b1-floor.js';
import { closedLoop, cpuMs, round, type LoadResult } from './measure.js';

/**
 * B1: HTTP → gateway → NATS → network-registry → PostgreSQL write (+ JetStream event) → reply,
 * against the floor measured in the same run: the same essential work without a framework
 * (b1-floor.ts: node:http in, one NATS hop to a second process, one UPDATE and one JetStream
 * publish there, the reply out). The earlier floor — one process doing a NATS hop and an INSERT,
 * less work than the product must do — is measured beside it.
 */
export interface B1Result {
  name: string;
  operation: string;
  floor: LoadResult[];
  /** The earlier floor: raw NATS request/reply plus a raw pg INSERT, in one process. */
  in_process_floor: LoadResult[];
  product: LoadResult[];
  /** CPU milliseconds each process spent per request during the product runs at concurrency 32. */
  cpu_ms_per_request: Record<string, number>;
  verdict: {
    concurrency: number;
    throughput_ratio: number;
    p99_ratio: number;
    meets_target: boolean;
    in_process_floor: { throughput_ratio: number; p99_ratio: number };
  }[];
}

const CONCURRENCY = [1, 32];

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

/** The floor's two processes (b1-floor.ts), as the gateway's and the registry's NATS users. */
/** Each started process as a way to stop it (a subprocess is a promise: it is not returned whole). */
async function startFloor(cluster: TestCluster, port: number): Promise<(() => void)[]> {
  const env = (user: string) => ({
    NATS_URL: cluster.nats.url,
    NATS_CREDS: cluster.nats.credsFile(user),
    DATABASE_URL: cluster.db.url,
  });
  const start = async (role: string[], user: string) => {
    const child = execaNode(FLOOR_SCRIPT, role, {
      env: env(user),
      stdio: 'inherit',
      reject: false,
    });
    await Promise.race([
      once(child, 'message'),
      child.then((r) => {
        throw new Error(`B1 floor ${role[0]} exited ${r.exitCode}`);
      }),
    ]);
    return () => void child.kill();
  };
  return [
    await start(['service'], NATS_USERS.service('registry')),
    await start(['edge', String(port)], NATS_USERS.gateway),
  ];
}

async function measureFloor(
  cluster: TestCluster,
  durationMs: number,
  body: () => string,
): Promise<LoadResult[]> {
  const port = await freePort();
  const stops = await startFloor(cluster, port);
  try {
    const results: LoadResult[] = [];
    for (const c of CONCURRENCY) {
      const keepAlive = new http.Agent({ keepAlive: true, maxSockets: c });
      results.push(await closedLoop(() => httpPost(keepAlive, port, '/', body()), c, durationMs));
      keepAlive.destroy();
    }
    return results;
  } finally {
    for (const stop of stops) stop();
  }
}

async function measureInProcessFloor(
  cluster: TestCluster,
  durationMs: number,
): Promise<LoadResult[]> {
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

    let i = 0;
    const body = () =>
      JSON.stringify({ host_id: `bench-${i % HOSTS}`, labels: { n: String(i++) } });
    const floor = await measureFloor(cluster, durationMs, body);
    const inProcessFloor = await measureInProcessFloor(cluster, durationMs);
    const port = cluster.deployment.gatewayPort;
    const product: LoadResult[] = [];
    const pids: Record<string, number> = {
      gateway: cluster.apps.get('gateway')!.child.pid!,
      'network-registry': cluster.apps.get('network-registry')!.child.pid!,
      'bench client': process.pid,
    };
    let cpu: Record<string, number> = {};
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
              body(),
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
    const ratios = (against: LoadResult[], k: number) => ({
      throughput_ratio: round(product[k]!.rps / against[k]!.rps, 2),
      p99_ratio: round(product[k]!.p99_ms / against[k]!.p99_ms, 2),
    });
    const verdict = CONCURRENCY.map((c, k) => {
      const r = ratios(floor, k);
      return {
        concurrency: c,
        ...r,
        meets_target: r.throughput_ratio >= 0.6 && r.p99_ratio <= 2,
        in_process_floor: ratios(inProcessFloor, k),
      };
    });
    return {
      name: 'B1',
      operation: 'POST …NetworkRegistryService/UpdateHost (UPDATE … RETURNING + JetStream event)',
      floor,
      in_process_floor: inProcessFloor,
      product,
      cpu_ms_per_request: cpu,
      verdict,
    };
  } finally {
    await cluster.teardown();
  }
}
