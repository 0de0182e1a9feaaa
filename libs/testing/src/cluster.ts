import { connect, type NatsConnection } from '@nats-io/transport-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NATS_USERS, natsOptions, request } from '@qnet/bus';
import { BUS_SERVICES, pingRpc, type BusServiceId } from '@qnet/contracts';
import {
  freePort,
  startApp,
  startNatsCluster,
  startNatsServer,
  waitFor,
  type AgentSpec,
  type AppName,
  type AppProcess,
  type Deployment,
  type NatsHandle,
} from '@qnet/stack';
import { createTestDatabase, type TestDatabase } from './database.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ClusterOptions {
  /** Agent host ids that get a NATS user. */
  hostIds?: string[];
  /** Environment for every app (short intervals, timeouts). */
  env?: Record<string, string>;
  /** A cluster of this many nats-servers instead of one (JetStream replicated across them). */
  natsNodes?: number;
}

/**
 * A real deployment for one test file: its own nats-server (JetStream, per-component users) on
 * free ports, its own PostgreSQL database, and app processes started from the built dist.
 */
export class TestCluster {
  /** Every process started, including ones that exited or were replaced under the same name. */
  private readonly processes: AppProcess[] = [];
  readonly apps = new Map<string, AppProcess>();
  private readonly connections: NatsConnection[] = [];

  private constructor(
    readonly deployment: Deployment,
    readonly nats: NatsHandle,
    readonly db: TestDatabase,
    readonly dir: string,
    /** The servers of a NATS cluster (natsNodes), each to stop and start on its own. */
    readonly natsNodes: NatsHandle[],
  ) {}

  static async create(o: ClusterOptions = {}): Promise<TestCluster> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qnet-test-'));
    const natsDir = path.join(dir, 'nats');
    const agentHostIds = o.hostIds ?? [];
    const nodes =
      (o.natsNodes ?? 1) > 1
        ? (await startNatsCluster({ dir: natsDir, agentHostIds, size: o.natsNodes! })).nodes
        : [await startNatsServer({ dir: natsDir, agentHostIds })];
    const nats = nodes.length === 1 ? nodes[0]! : clusterHandle(nodes);
    const db = await createTestDatabase();
    const deployment: Deployment = {
      root: REPO_ROOT,
      logDir: path.join(dir, 'logs'),
      natsUrl: nats.url,
      nats,
      databaseUrl: db.url,
      gatewayHost: '127.0.0.1',
      gatewayPort: await freePort(),
      // The seed-compatible listeners get free ports, so clusters never collide on 8081/8090.
      env: {
        LOG_LEVEL: 'info',
        TUNNEL_HTTP_PORT: String(await freePort()),
        DEVICE_HTTP_PORT: String(await freePort()),
        // Metrics listeners off unless a test asks for one (METRICS_PORT per app).
        METRICS_PORT: '0',
        ...o.env,
      },
      console: false,
    };
    return new TestCluster(deployment, nats, db, dir, nodes);
  }

  /** The API 004 listener of the tunnel balancer or the device controller. */
  seedUrl(service: 'tunnel' | 'device'): string {
    const port =
      this.deployment.env[service === 'tunnel' ? 'TUNNEL_HTTP_PORT' : 'DEVICE_HTTP_PORT'];
    return `http://127.0.0.1:${port}`;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.deployment.gatewayPort}`;
  }

  start(app: AppName, agent?: AgentSpec, env: Record<string, string> = {}): AppProcess {
    const proc = startApp(this.deployment, app, agent, env);
    this.processes.push(proc);
    this.apps.set(proc.name, proc);
    return proc;
  }

  async startServices(ids: BusServiceId[] = BUS_SERVICES.map((s) => s.id)): Promise<void> {
    for (const id of ids) this.start(BUS_SERVICES.find((s) => s.id === id)!.app);
    await Promise.all(ids.map((id) => this.waitForService(id)));
  }

  async startGateway(env: Record<string, string> = {}): Promise<void> {
    const proc = this.start('gateway', undefined, env);
    await waitFor(
      async () => proc.child.exitCode === null && (await fetch(`${this.gatewayUrl}/health`)).ok,
      20_000,
      'gateway /health',
    );
  }

  async stop(name: string): Promise<number | null> {
    const proc = this.apps.get(name);
    if (!proc) return null;
    await proc.stop();
    this.apps.delete(name);
    return proc.exited;
  }

  /** A NATS connection as one component's user (e.g. "lb", "agent-h1", "observer"). */
  async connectAs(user: string): Promise<NatsConnection> {
    const nc = await connect(
      natsOptions({ url: this.nats.url, credsFile: this.nats.credsFile(user), name: user }),
    );
    this.connections.push(nc);
    return nc;
  }

  /** Until the registry has these hosts (their agents registered). */
  async waitForHosts(ids: string[], timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () =>
        (
          await this.db.query(`SELECT 1 FROM network_registry.hosts WHERE id = ANY($1::text[])`, [
            ids,
          ])
        ).length === ids.length,
      timeoutMs,
      `hosts ${ids.join(', ')} registered`,
    );
  }

  async waitForService(id: BusServiceId, timeoutMs = 30_000): Promise<void> {
    const nc = await this.connectAs(NATS_USERS.gateway);
    const app = BUS_SERVICES.find((s) => s.id === id)!.app;
    await waitFor(
      async () => Boolean(await request(nc, pingRpc(id), {}, { timeoutMs: 500 })),
      timeoutMs,
      `${id} Ping`,
    ).catch((err: Error) => {
      // Why it never answered (it died at start, or is stuck) is in its log.
      throw new Error(`${err.message}; its log ends: ${this.logTail(app)}`);
    });
  }

  private logTail(name: string): string {
    try {
      const file = path.join(this.deployment.logDir, `${name}.log`);
      return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
    } catch {
      return '(no log)';
    }
  }

  /** An HTTP request to the gateway; the body is parsed JSON (undefined when empty). */
  async http<B = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; body: B }> {
    const res = await fetch(`${this.gatewayUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text ? JSON.parse(text) : undefined) as B,
    };
  }

  /** Like http, for calls that must succeed: throws with the status and body otherwise. */
  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.http<T>(method, path, body);
    if (res.status >= 300)
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Log lines of an app, parsed. */
  async logs(name: string): Promise<Record<string, unknown>[]> {
    return readFileSync(path.join(this.deployment.logDir, `${name}.log`), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async teardown(): Promise<void> {
    await Promise.all(this.processes.map((a) => a.stop()));
    await Promise.all(this.connections.map((c) => c.close().catch(() => undefined)));
    await this.nats.stop();
    await this.db.drop();
    if (!process.env.QNET_KEEP_TEST_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The servers of a cluster seen as one: every URL, shared users; stop and start all of them. */
function clusterHandle(nodes: NatsHandle[]): NatsHandle {
  const all = (f: (n: NatsHandle) => Promise<void>) => async () => {
    await Promise.all(nodes.map(f));
  };
  return {
    url: nodes.map((n) => n.url).join(','),
    monitorUrl: nodes[0]!.monitorUrl,
    authorityFile: nodes[0]!.authorityFile,
    authority: nodes[0]!.authority,
    credsFile: (user) => nodes[0]!.credsFile(user),
    configPath: nodes[0]!.configPath,
    stop: all((n) => n.stop()),
    start: all((n) => n.start()),
    restart: all((n) => n.restart()),
  };
}
