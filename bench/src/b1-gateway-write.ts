import { once } from 'node:events';
import http from 'node:http';
import { execaNode } from 'execa';
import pg from 'pg';
import { busRequest, encodeJson, NATS_USERS } from '@qnet/bus';
import { freePort } from '@qnet/stack';
import { TestCluster } from '@qnet/testing';
import { FLOOR_SCRIPT } from './b1-floor.js';
import { cpuMs, interleavedLoops, round, type LoadResult } from './measure.js';

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
/**
 * The floor, the earlier floor and the product take turns in rounds of durationMs / ROUNDS, so the
 * machine's moods (it is shared) fall on all three alike.
 */
const ROUNDS = 5;
/**
 * Each system's code is compiled as it runs: measured at c=1, the registry needed ~4 s of calls
 * before its CPU per request settled (1.3, 0.8, 0.55, 0.59 ms in 3 s rounds). Steady state is
 * what a control plane runs in.
 */
const WARMUP_MS = 4_000;
const UPDATE_HOST = '/limiquantix.network.v1.NetworkRegistryService/UpdateHost';

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

/** The earlier floor's responder: raw NATS request/reply plus a raw pg INSERT, in this process. */
async function startInProcessFloor(cluster: TestCluster): Promise<() => Promise<void>> {
  const nc = await cluster.connectAs('network-registry');
  const pool = new pg.Pool({ connectionString: cluster.db.url, max: 10 });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, v jsonb NOT NULL)',
  );
  nc.subscribe(IN_PROCESS_SUBJECT, {
    callback: (_e, m) => {
      void pool
        .query('INSERT INTO bench_floor (v) VALUES ($1)', [m.string()])
        .then(() => m.respond(encodeJson({ data: {} })));
    },
  });
  await nc.flush();
  return async () => {
    await nc.close();
    await pool.end();
  };
}

const IN_PROCESS_SUBJECT = 'qnet.rpc.registry.BenchInProcessFloor';

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
    const floorPort = await freePort();
    const stops = await startFloor(cluster, floorPort);
    const stopInProcess = await startInProcessFloor(cluster);
    const nc = await cluster.connectAs('network-registry');
    const pids: Record<string, number> = {
      gateway: cluster.apps.get('gateway')!.child.pid!,
      'network-registry': cluster.apps.get('network-registry')!.child.pid!,
      'bench client': process.pid,
    };
    const floor: LoadResult[] = [];
    const inProcessFloor: LoadResult[] = [];
    const product: LoadResult[] = [];
    const cpu: Record<string, number> = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
    let productRequests = 0;
    let before: Record<string, number> = {};
    try {
      for (const c of CONCURRENCY) {
        const keepAlive = new http.Agent({ keepAlive: true, maxSockets: c });
        const gatewayPort = cluster.deployment.gatewayPort;
        const results = await interleavedLoops(
          {
            floor: () => httpPost(keepAlive, floorPort, '/', body()),
            in_process_floor: () => busRequest(nc, IN_PROCESS_SUBJECT, { n: i++ }),
            product: () => httpPost(keepAlive, gatewayPort, UPDATE_HOST, body()),
          },
          c,
          durationMs,
          ROUNDS,
          WARMUP_MS,
          {
            before: (k) => {
              if (k === 'product' && c === 32)
                before = Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, cpuMs(p)]));
            },
            after: (k, requests) => {
              if (k !== 'product' || c !== 32) return;
              for (const [n, p] of Object.entries(pids)) cpu[n]! += cpuMs(p) - before[n]!;
              productRequests += requests;
            },
          },
        );
        keepAlive.destroy();
        floor.push(results.floor);
        inProcessFloor.push(results.in_process_floor);
        product.push(results.product);
      }
    } finally {
      for (const stop of stops) stop();
      await stopInProcess();
      await nc.close();
    }
    const cpuPerRequest = Object.fromEntries(
      Object.entries(cpu).map(([n, ms]) => [n, round(ms / productRequests, 2)]),
    );
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
      cpu_ms_per_request: cpuPerRequest,
      verdict,
    };
  } finally {
    await cluster.teardown();
  }
}
