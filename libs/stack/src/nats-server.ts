import { execa, type Subprocess } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  clusterUsers,
  renderNatsConfig,
  type ClusterPasswords,
  type NatsServerLayout,
} from '@qnet/bus';
import { BUS_SERVICES, type BusServiceId } from '@qnet/contracts';
import { freePort, portAnswers, waitFor } from './ports.js';

export const NATS_SERVER_MISSING = `nats-server was not found on PATH.
  Install it:   sudo apt-get install --no-install-recommends nats-server   (Debian/Ubuntu)
            or  brew install nats-server                                   (macOS)
            or  download a release from the NATS project and put nats-server on PATH.
  Or point QuantumNet at a running server: NATS_URL=nats://user:pass@host:4222 npm start`;

export interface NatsHandle {
  /** URL without credentials; each component connects as its own user. */
  url: string;
  monitorUrl: string;
  passwords: ClusterPasswords;
  configPath: string;
  stop(): Promise<void>;
  /** Starts the stopped server again: same port, users and JetStream data. */
  start(): Promise<void>;
  /** Stops and starts the same server (same port, users and JetStream data): clients reconnect. */
  restart(): Promise<void>;
}

const secret = () => randomBytes(18).toString('base64url');

export function generatePasswords(agentHostIds: string[]): ClusterPasswords {
  return {
    gateway: secret(),
    observer: secret(),
    services: Object.fromEntries(BUS_SERVICES.map((s) => [s.id, secret()])) as Record<
      BusServiceId,
      string
    >,
    agents: agentHostIds.map((hostId) => ({ hostId, password: secret() })),
  };
}

/**
 * Starts nats-server with JetStream and one user per component (subject permissions) on free
 * loopback ports. The config holds passwords, so it is written 0600.
 */
export async function startNatsServer(opts: {
  dir: string;
  agentHostIds: string[];
  port?: number;
  /** The nats-server binary (default: NATS_SERVER_BIN, else nats-server from PATH). */
  bin?: string;
  /** Shared by the nodes of a cluster; made here otherwise. */
  passwords?: ClusterPasswords;
  serverName?: string;
  cluster?: NatsServerLayout['cluster'];
}): Promise<NatsHandle> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const passwords = opts.passwords ?? generatePasswords(opts.agentHostIds);
  const configPath = path.join(opts.dir, 'nats.conf');
  const bin = opts.bin ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  let port = opts.port ?? (await freePort());
  let monitor = 0;
  /**
   * Writes the config with a fresh monitoring port and launches. Another process may take a port
   * between freePort() and the server's bind (parallel test clusters; our own port while we are
   * stopped): then it tries again with fresh ports — the client port only where nobody relies on it.
   */
  // Wrapped: an execa subprocess is itself a promise of its exit, which an async function would await.
  const launchFresh = async (clientPortFixed: boolean): Promise<{ child: Subprocess }> => {
    for (let attempt = 1; ; attempt++) {
      monitor = await freePort();
      writeFileSync(
        configPath,
        renderNatsConfig({
          listen: `127.0.0.1:${port}`,
          monitor: `127.0.0.1:${monitor}`,
          storeDir: path.join(opts.dir, 'jetstream'),
          users: clusterUsers(passwords),
          serverName: opts.serverName,
          cluster: opts.cluster,
        }),
        { mode: 0o600 },
      );
      try {
        return await launch(bin, configPath, port);
      } catch (err) {
        if (attempt >= 3 || !/address already in use/.test((err as Error).message)) throw err;
        if (!clientPortFixed) port = await freePort();
      }
    }
  };
  let { child } = await launchFresh(opts.port !== undefined);
  const stop = () => stopChild(child, 5_000);
  const start = async () => {
    if (child.exitCode === null && child.signalCode === null) return;
    // Clients reconnect to the same client port.
    ({ child } = await launchFresh(true));
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    get monitorUrl() {
      return `http://127.0.0.1:${monitor}`;
    },
    passwords,
    configPath,
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
  };
}

/** Starts nats-server on a written config and waits until it accepts connections. */
async function launch(
  bin: string,
  configPath: string,
  port: number,
): Promise<{ child: Subprocess }> {
  let child: Subprocess;
  try {
    ({ child } = await spawnChecked(bin, ['-c', configPath]));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(NATS_SERVER_MISSING);
    throw err;
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    await waitFor(
      async () => child.exitCode === null && (await portAnswers('127.0.0.1', port)),
      10_000,
      'nats-server',
    );
  } catch {
    child.kill('SIGKILL');
    throw new Error(`nats-server did not start: ${stderr.trim()}`);
  }
  return { child };
}

/** Resolves once the process has spawned (wrapped: an execa subprocess is itself a promise of its exit). */
function spawnChecked(cmd: string, args: string[]): Promise<{ child: Subprocess }> {
  return new Promise((resolve, reject) => {
    // Own process group: a terminal's Ctrl-C reaches the services, which drain while NATS is
    // still up; the stack stops NATS last.
    const child = execa(cmd, args, {
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      detached: true,
      buffer: false,
      reject: false,
    });
    child.once('error', reject);
    child.once('spawn', () => resolve({ child }));
  });
}

/** SIGTERM, then SIGKILL after the grace period. Resolves when the process has exited. */
export function stopChild(child: Subprocess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface NatsCluster {
  /** Every node's client URL, comma-separated: what NATS_URL takes. */
  url: string;
  nodes: NatsHandle[];
  passwords: ClusterPasswords;
  stop(): Promise<void>;
}

/**
 * `size` nats-servers on loopback, routed into one cluster with JetStream (one server name and
 * store per node), sharing one set of users: for proving the product on a distributed engine.
 */
export async function startNatsCluster(opts: {
  dir: string;
  agentHostIds: string[];
  size: number;
}): Promise<NatsCluster> {
  const passwords = generatePasswords(opts.agentHostIds);
  const ports = await Promise.all(
    Array.from({ length: opts.size }, async () => ({
      client: await freePort(),
      route: await freePort(),
    })),
  );
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`);
  const nodes = await Promise.all(
    ports.map((p, i) =>
      startNatsServer({
        dir: path.join(opts.dir, `n${i}`),
        agentHostIds: opts.agentHostIds,
        port: p.client,
        passwords,
        serverName: `qnet-${i}`,
        cluster: {
          name: 'qnet',
          listen: `127.0.0.1:${p.route}`,
          routes: routes.filter((_, j) => j !== i),
        },
      }),
    ),
  );
  return {
    url: nodes.map((n) => n.url).join(','),
    nodes,
    passwords,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
