import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NATS_USERS } from '@qnet/bus';
import { BUS_SERVICES, type ServiceApp } from '@qnet/contracts';
import { resolveDatabase, type DatabaseHandle } from './database.js';
import { startNatsServer, type NatsHandle } from './nats-server.js';
import { waitFor } from './ports.js';
import { spawnApp, type AppProcess } from './processes.js';

export type AppName = ServiceApp | 'gateway' | 'node-agent';

/** What every app of one deployment shares. */
export interface Deployment {
  root: string;
  logDir: string;
  natsUrl: string;
  /** Set when we started NATS ourselves: every app then connects as its own user. */
  nats?: NatsHandle;
  databaseUrl: string;
  /** Per-service databases (embedded mode); services not listed use databaseUrl. */
  databaseUrls?: Record<string, string>;
  gatewayHost: string;
  gatewayPort: number;
  env: Record<string, string>;
  console: boolean;
}

export interface AgentSpec {
  hostId: string;
  mode: 'auto' | 'host' | 'netns' | 'dry-run';
  netns?: string;
  /** Enroll through the gateway with this join token instead of deployment credentials. */
  joinToken?: string;
}

/** The environment of one app in a deployment: NATS user, database, ports, agent identity. */
export function appEnv(
  d: Deployment,
  app: AppName,
  agent?: AgentSpec,
): Record<string, string | undefined> {
  const creds = (user: string) => (d.nats ? { NATS_CREDS: d.nats.credsFile(user) } : {});
  // A terminal's Ctrl-C reaches every process of its group: the apps leave it to the launcher,
  // which stops them once, in order.
  const base = { NATS_URL: d.natsUrl, QNET_SUPERVISED: '1', ...d.env };
  if (app === 'gateway') {
    return {
      ...base,
      GATEWAY_HOST: d.gatewayHost,
      GATEWAY_PORT: String(d.gatewayPort),
      ...creds(NATS_USERS.gateway),
    };
  }
  if (app === 'node-agent') {
    if (!agent) throw new Error('node-agent needs an agent spec');
    return {
      ...base,
      QNET_HOST_ID: agent.hostId,
      AGENT_MODE: agent.mode,
      AGENT_STATE_DIR: path.join(path.dirname(d.logDir), `agent-${agent.hostId}`),
      ...(agent.netns ? { AGENT_NETNS: agent.netns } : {}),
      ...(agent.joinToken
        ? {
            QNET_JOIN_TOKEN: agent.joinToken,
            QNET_JOIN_URL: `http://${d.gatewayHost}:${d.gatewayPort}`,
          }
        : creds(NATS_USERS.agent(agent.hostId))),
    };
  }
  const svc = BUS_SERVICES.find((s) => s.app === app)!;
  return {
    ...base,
    DATABASE_URL: d.databaseUrl,
    QNET_MASTER_KEY_FILE: path.join(path.dirname(d.logDir), 'master.key'),
    ...creds(NATS_USERS.service(svc.id)),
    // The registry enrolls and revokes hosts: it signs their NATS credentials.
    ...(d.nats && svc.id === 'registry' ? { QNET_NATS_AUTHORITY_FILE: d.nats.authorityFile } : {}),
  };
}

/** Starts one app; `overrides` win over the computed environment. */
export function startApp(
  d: Deployment,
  app: AppName,
  agent?: AgentSpec,
  overrides: Record<string, string> = {},
): AppProcess {
  return spawnApp({
    name: app === 'node-agent' && agent ? `node-agent-${agent.hostId}` : app,
    script: path.join(d.root, 'apps', app, 'dist', 'main.js'),
    env: { ...appEnv(d, app, agent), ...overrides },
    logDir: d.logDir,
    console: d.console,
  });
}

export interface StackOptions {
  /** Repository root (apps/<name>/dist/main.js). */
  root: string;
  /** Where NATS config, JetStream data, logs and an embedded database live. */
  stateDir: string;
  natsUrl?: string;
  databaseUrl?: string;
  /** Without databaseUrl: a throwaway local database of this name (see resolveDatabase). */
  scratchDatabase?: string;
  gatewayHost?: string;
  gatewayPort?: number;
  hostId: string;
  agentMode?: AgentSpec['mode'];
  /** Extra environment for every app (intervals in tests, log level). */
  env?: Record<string, string>;
  console?: boolean;
  /** DEVICE_BOOTSTRAP_PSK as the operator gave it; unset, one is made and kept in the state dir. */
  devicePsk?: string;
}

/**
 * The device controller's bootstrap PSK (seed 004's default_psk, which signs a device's first
 * POST /register): made once, kept 0600 in the state directory, the same on every start.
 */
function devicePsk(stateDir: string): { file: string; value: string } {
  const file = path.join(stateDir, 'device-bootstrap.psk');
  if (!existsSync(file))
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  return { file, value: readFileSync(file, 'utf8').trim() };
}

export interface Stack {
  deployment: Deployment;
  gatewayUrl: string;
  natsUrl: string;
  nats?: NatsHandle;
  database: DatabaseHandle;
  apps: AppProcess[];
  /** The file holding the device controller's bootstrap PSK, when the stack made one. */
  devicePskFile?: string;
  /** The read-only NATS user's credentials file, for `nats sub --creds`. */
  observerCreds?: string;
  stop(): Promise<void>;
}

/**
 * Brings up the whole product: NATS (given or started with per-component users), PostgreSQL
 * (given, local or embedded), every service, the gateway and one node agent.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  mkdirSync(o.stateDir, { recursive: true });
  const nats = o.natsUrl
    ? undefined
    : await startNatsServer({ dir: path.join(o.stateDir, 'nats'), agentHostIds: [o.hostId] });
  let database: DatabaseHandle | undefined;
  const apps: AppProcess[] = [];
  // In order: the gateway stops taking requests, the agents and then the services drain, the bus
  // and the database go last.
  const stop = async () => {
    const stage = (match: (a: AppProcess) => boolean) =>
      Promise.all(apps.filter(match).map((a) => a.stop()));
    await stage((a) => a.name === 'gateway');
    await stage((a) => a.name.startsWith('node-agent'));
    await stage(() => true);
    await nats?.stop();
    await database?.stop();
  };
  try {
    database = await resolveDatabase({
      databaseUrl: o.databaseUrl,
      stateDir: o.stateDir,
      services: BUS_SERVICES.map((s) => s.app),
      scratch: o.scratchDatabase,
    });
    const d: Deployment = {
      root: o.root,
      logDir: path.join(o.stateDir, 'logs'),
      natsUrl: o.natsUrl ?? nats!.url,
      nats,
      databaseUrl: database.url,
      databaseUrls: database.perService,
      gatewayHost: o.gatewayHost ?? '127.0.0.1',
      gatewayPort: o.gatewayPort ?? 8080,
      env: o.env ?? {},
      console: o.console ?? false,
    };
    const psk = o.devicePsk === undefined ? devicePsk(o.stateDir) : undefined;
    for (const s of BUS_SERVICES)
      apps.push(
        startApp(
          d,
          s.app,
          undefined,
          psk && s.app === 'device-controller' ? { DEVICE_BOOTSTRAP_PSK: psk.value } : {},
        ),
      );
    apps.push(startApp(d, 'gateway'));
    apps.push(startApp(d, 'node-agent', { hostId: o.hostId, mode: o.agentMode ?? 'auto' }));
    return {
      deployment: d,
      gatewayUrl: `http://${d.gatewayHost}:${d.gatewayPort}`,
      natsUrl: d.natsUrl,
      nats,
      database,
      apps,
      devicePskFile: psk?.file,
      observerCreds: nats?.credsFile(NATS_USERS.observer),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls /ready until every service is up; fails early if an app exits. */
export async function waitUntilReady(
  stack: Pick<Stack, 'gatewayUrl' | 'apps'>,
  timeoutMs: number,
): Promise<void> {
  let exited: string | undefined;
  for (const a of stack.apps)
    void a.exited.then((code) => (exited ??= `${a.name} exited with code ${code}`));
  await waitFor(
    async () => exited !== undefined || (await fetch(`${stack.gatewayUrl}/ready`)).status === 200,
    timeoutMs,
    `${stack.gatewayUrl}/ready`,
    250,
  );
  if (exited) throw new Error(exited);
}
