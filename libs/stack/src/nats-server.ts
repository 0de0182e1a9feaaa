import { execa, type Subprocess } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { clusterUsers, renderNatsConfig, type ClusterPasswords } from '@qnet/bus';
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
}): Promise<NatsHandle> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const port = opts.port ?? (await freePort());
  const monitor = await freePort();
  const passwords = generatePasswords(opts.agentHostIds);
  const configPath = path.join(opts.dir, 'nats.conf');
  writeFileSync(
    configPath,
    renderNatsConfig({
      listen: `127.0.0.1:${port}`,
      monitor: `127.0.0.1:${monitor}`,
      storeDir: path.join(opts.dir, 'jetstream'),
      users: clusterUsers(passwords),
    }),
    { mode: 0o600 },
  );
  const bin = opts.bin ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  let { child } = await launch(bin, configPath, port);
  const stop = () => stopChild(child, 5_000);
  const start = async () => {
    if (child.exitCode === null && child.signalCode === null) return;
    ({ child } = await launch(bin, configPath, port));
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    monitorUrl: `http://127.0.0.1:${monitor}`,
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
