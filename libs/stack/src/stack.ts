import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { NATS_USERS } from '@qnet/bus';
import { BUS_SERVICES } from '@qnet/contracts';
import { resolveDatabase, type DatabaseHandle } from './database.js';
import { startNatsServer, type NatsHandle } from './nats-server.js';
import { freePort, waitFor } from './ports.js';
import { spawnApp, type AppProcess } from './processes.js';

export interface StackOptions {
  /** Repository root (apps/<name>/dist/main.js). */
  root: string;
  /** Where NATS config, JetStream data, logs and an embedded database live. */
  stateDir: string;
  natsUrl?: string;
  databaseUrl?: string;
  gatewayHost?: string;
  gatewayPort?: number;
  hostId: string;
  agentMode?: 'auto' | 'host' | 'netns' | 'dry-run';
  /** Start a local node agent (default true). */
  agent?: boolean;
  /** Extra environment for every app (intervals in tests, log level). */
  env?: Record<string, string>;
  console?: boolean;
}

export interface Stack {
  gatewayUrl: string;
  natsUrl: string;
  nats?: NatsHandle;
  database: DatabaseHandle;
  apps: AppProcess[];
  /** Credentials of the read-only NATS user, for `nats sub`. */
  observer?: { user: string; password: string };
  stop(): Promise<void>;
}

const appScript = (root: string, app: string) => path.join(root, 'apps', app, 'dist', 'main.js');

/**
 * Brings up the whole product: NATS (given or started with per-component users), PostgreSQL
 * (given, local or embedded), every service, the gateway and one node agent.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  mkdirSync(o.stateDir, { recursive: true });
  const logDir = path.join(o.stateDir, 'logs');
  const nats = o.natsUrl ? undefined : await startNatsServer({ dir: path.join(o.stateDir, 'nats'), agentHostIds: [o.hostId] });
  const natsUrl = o.natsUrl ?? nats!.url;
  let database: DatabaseHandle | undefined;
  const apps: AppProcess[] = [];
  const stop = async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await nats?.stop();
    await database?.stop();
  };
  try {
    database = await resolveDatabase({ databaseUrl: o.databaseUrl, stateDir: o.stateDir });
    const gatewayPort = o.gatewayPort ?? 8080;
    const gatewayHost = o.gatewayHost ?? '127.0.0.1';
    const common = { NATS_URL: natsUrl, ...o.env };
    const creds = (user: string, password: string | undefined) => (nats ? { NATS_USER: user, NATS_PASSWORD: password } : {});
    const start = (name: string, app: string, env: Record<string, string | undefined>) =>
      apps.push(spawnApp({ name, script: appScript(o.root, app), env: { ...common, ...env }, logDir, console: o.console ?? false }));

    for (const s of BUS_SERVICES) {
      start(s.app, s.app, { DATABASE_URL: database.url, ...creds(NATS_USERS.service(s.id), nats?.passwords.services[s.id] as string) });
    }
    start('gateway', 'gateway', {
      GATEWAY_HOST: gatewayHost,
      GATEWAY_PORT: String(gatewayPort),
      ...creds(NATS_USERS.gateway, nats?.passwords.gateway as string),
    });
    if (o.agent !== false) {
      start('node-agent', 'node-agent', {
        QNET_HOST_ID: o.hostId,
        AGENT_MODE: o.agentMode ?? 'auto',
        ...creds(NATS_USERS.agent(o.hostId), nats?.passwords.agents[0]?.password as string),
      });
    }
    return {
      gatewayUrl: `http://${gatewayHost}:${gatewayPort}`,
      natsUrl,
      nats,
      database,
      apps,
      observer: nats ? { user: NATS_USERS.observer, password: nats.passwords.observer as string } : undefined,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls /ready until every service is up; fails early if an app exits. */
export async function waitUntilReady(stack: Stack, timeoutMs: number): Promise<void> {
  let exited: string | undefined;
  for (const a of stack.apps) void a.exited.then((code) => (exited ??= `${a.name} exited with code ${code}`));
  await waitFor(
    async () => exited !== undefined || (await fetch(`${stack.gatewayUrl}/ready`)).status === 200,
    timeoutMs,
    `${stack.gatewayUrl}/ready`,
    250,
  );
  if (exited) throw new Error(exited);
}

export { freePort };
