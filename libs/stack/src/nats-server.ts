import { execa, type Subprocess } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  createNatsAuthority,
  NATS_USERS,
  permissionsOf,
  renderNatsConfig,
  userCreds,
  type NatsAuthority,
  type NatsServerLayout,
} from '@qnet/bus';
import { BUS_SERVICES } from '@qnet/contracts';
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
  /** The deployment's NATS keys (0600): what the registry enrolls and revokes hosts with. */
  authorityFile: string;
  authority: NatsAuthority;
  /** A component's credentials file (0600): "gateway", "observer", "lb", "agent-<host id>", … */
  credsFile(user: string): string;
  configPath: string;
  stop(): Promise<void>;
  /** Starts the stopped server again: same port, users and JetStream data. */
  start(): Promise<void>;
  /** Stops and starts the same server (same port, users and JetStream data): clients reconnect. */
  restart(): Promise<void>;
}

/** The authority kept in `file` (0600), made there on first use: the same keys on every start. */
export async function loadNatsAuthority(file: string): Promise<NatsAuthority> {
  if (!existsSync(file))
    writeFileSync(file, `${JSON.stringify(await createNatsAuthority(), null, 2)}\n`, {
      mode: 0o600,
    });
  return JSON.parse(readFileSync(file, 'utf8')) as NatsAuthority;
}

/** Every component of one host's `npm start`: the gateway, the services, the observer, its agents. */
export function componentUsers(agentHostIds: string[]): string[] {
  return [
    NATS_USERS.gateway,
    NATS_USERS.observer,
    ...BUS_SERVICES.map((s) => NATS_USERS.service(s.id)),
    ...agentHostIds.map((h) => NATS_USERS.agent(h)),
  ];
}

/** Writes a credentials file (0600) for each user into dir/creds; names them by user. */
export async function writeCredentials(
  dir: string,
  authority: NatsAuthority,
  users: string[],
): Promise<(user: string) => string> {
  const credsDir = path.join(dir, 'creds');
  mkdirSync(credsDir, { recursive: true, mode: 0o700 });
  const files = new Map<string, string>();
  for (const user of users) {
    const file = path.join(credsDir, `${user}.creds`);
    writeFileSync(file, await userCreds(authority, user, permissionsOf(user)), { mode: 0o600 });
    files.set(user, file);
  }
  return (user) => {
    const file = files.get(user);
    if (!file) throw new Error(`NATS has no credentials for ${user}`);
    return file;
  };
}

/**
 * Starts nats-server with JetStream in operator mode on free loopback ports: it trusts the
 * authority kept in dir (made on first start), and each component connects with its own
 * credentials file (subject permissions in its JWT).
 */
export async function startNatsServer(opts: {
  dir: string;
  /** Hosts whose agents get credentials here (others enroll with a join token). */
  agentHostIds: string[];
  port?: number;
  /** The nats-server binary (default: NATS_SERVER_BIN, else nats-server from PATH). */
  bin?: string;
  /** Shared by the nodes of a cluster: its file; default dir/authority.json. */
  authorityFile?: string;
  serverName?: string;
  cluster?: NatsServerLayout['cluster'];
}): Promise<NatsHandle> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const authorityFile = opts.authorityFile ?? path.join(opts.dir, 'authority.json');
  const authority = await loadNatsAuthority(authorityFile);
  const credsFile = await writeCredentials(opts.dir, authority, componentUsers(opts.agentHostIds));
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
          resolverDir: path.join(opts.dir, 'jwt'),
          authority,
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
    authorityFile,
    authority,
    credsFile,
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
  stop(): Promise<void>;
}

/**
 * `size` nats-servers on loopback, routed into one cluster with JetStream (one server name and
 * store per node), trusting one authority: for proving the product on a distributed engine.
 */
export async function startNatsCluster(opts: {
  dir: string;
  agentHostIds: string[];
  size: number;
}): Promise<NatsCluster> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const authorityFile = path.join(opts.dir, 'authority.json');
  await loadNatsAuthority(authorityFile);
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
        authorityFile,
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
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
