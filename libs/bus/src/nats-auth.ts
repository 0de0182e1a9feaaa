import { BUS_SERVICES, type BusServiceId } from '@qnet/contracts';
import { inboxPrefixFor } from './connection.js';

/** A password given literally, or as a reference to an environment variable of the NATS server. */
export type Secret = string | { env: string };

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

export interface NatsUser {
  user: string;
  password: Secret;
  permissions: NatsPermissions;
}

/** The NATS user of each component. Services use their app name; agents agent-<hostId>. */
export const NATS_USERS = {
  gateway: 'gateway',
  observer: 'observer',
  service: (id: BusServiceId) => BUS_SERVICES.find((s) => s.id === id)!.app,
  agent: (hostId: string) => `agent-${hostId}`,
} as const;

const inbox = (user: string) => `${inboxPrefixFor(user)}.>`;
const JS_CLIENT = ['$JS.API.>', '$JS.ACK.>', '$JS.FC.>'];

export function gatewayPermissions(): NatsPermissions {
  return { publish: ['qnet.rpc.>'], subscribe: [inbox(NATS_USERS.gateway)] };
}

/**
 * Control-plane services: answer their own RPCs, call others, publish their own events, and
 * command, serve and hear only the agent drivers they own (a service answering another's desired
 * state pulls could hand an agent a forged state). The registry also takes registrations and
 * heartbeats; the tunnel balancer routing metrics and publishes decisions. Anyone may ping an agent.
 */
export function servicePermissions(id: BusServiceId): NatsPermissions {
  const svc = BUS_SERVICES.find((s) => s.id === id)!;
  const drivers: readonly string[] = svc.drivers;
  return {
    publish: [
      'qnet.rpc.>',
      `qnet.evt.${id}.>`,
      'qnet.agent.*.cmd.ping',
      ...drivers.map((d) => `qnet.agent.*.cmd.${d}`),
      ...(id === 'tunnel' ? ['qnet.tunnel.>'] : []),
      ...JS_CLIENT,
    ],
    subscribe: [
      `qnet.rpc.${id}.>`,
      ...(id === 'registry' ? ['qnet.agent.*.register', 'qnet.agent.*.heartbeat'] : []),
      ...drivers.flatMap((d) => [`qnet.agent.*.desired.${d}`, `qnet.agent.*.status.${d}`]),
      ...(id === 'tunnel' ? ['qnet.metrics.>'] : []),
      inbox(svc.app),
    ],
  };
}

/**
 * A node agent hears only its own commands and speaks only for its own host: the host id in
 * every subject it may publish is its identity, enforced by the server.
 */
export function agentPermissions(hostId: string): NatsPermissions {
  const base = `qnet.agent.${hostId}`;
  return {
    publish: [
      `${base}.register`,
      `${base}.heartbeat`,
      `${base}.status.>`,
      `${base}.desired.>`,
      `qnet.metrics.*.${hostId}`,
    ],
    // A host that is a tunnel endpoint hears its own router decisions as they change.
    subscribe: [`${base}.cmd.>`, `qnet.tunnel.decision.${hostId}`, inbox(NATS_USERS.agent(hostId))],
  };
}

/**
 * Read-only access for people watching the system with the NATS CLI: events (live and from the
 * stream), heartbeats, driver reports (which carry no keys) and metrics; replies only on its own
 * inbox prefix (`nats --inbox-prefix _INBOX.observer …`), never on another component's, where
 * generated keys travel.
 */
export function observerPermissions(): NatsPermissions {
  return {
    publish: [
      '$JS.API.INFO',
      '$JS.API.STREAM.NAMES',
      '$JS.API.STREAM.LIST',
      '$JS.API.STREAM.INFO.>',
      '$JS.API.STREAM.MSG.GET.>',
      '$JS.API.CONSUMER.CREATE.>',
      '$JS.API.CONSUMER.INFO.>',
      '$JS.API.CONSUMER.DELETE.>',
      '$JS.API.CONSUMER.MSG.NEXT.>',
      '$JS.ACK.>',
    ],
    subscribe: [
      'qnet.evt.>',
      'qnet.agent.*.heartbeat',
      'qnet.agent.*.status.>',
      'qnet.metrics.>',
      'qnet.tunnel.>',
      inbox(NATS_USERS.observer),
    ],
  };
}

export interface NatsServerLayout {
  listen: string;
  /** HTTP monitoring endpoint (host:port), or undefined for none. */
  monitor?: string;
  storeDir: string;
  users: NatsUser[];
  /** Unique per server of a cluster (JetStream names its peers by it); default "qnet". */
  serverName?: string;
  /** One node of a cluster: where it listens for routes, and the other nodes' route URLs. */
  cluster?: { name: string; listen: string; routes: string[] };
}

export interface ClusterPasswords {
  gateway: Secret;
  observer: Secret;
  services: Record<BusServiceId, Secret>;
  agents: { hostId: string; password: Secret }[];
}

export function clusterUsers(p: ClusterPasswords): NatsUser[] {
  return [
    { user: NATS_USERS.gateway, password: p.gateway, permissions: gatewayPermissions() },
    ...BUS_SERVICES.map((s) => ({
      user: NATS_USERS.service(s.id),
      password: p.services[s.id],
      permissions: servicePermissions(s.id),
    })),
    ...p.agents.map((a) => ({
      user: NATS_USERS.agent(a.hostId),
      password: a.password,
      permissions: agentPermissions(a.hostId),
    })),
    { user: NATS_USERS.observer, password: p.observer, permissions: observerPermissions() },
  ];
}

const q = (s: string) => JSON.stringify(s);
const secret = (s: Secret) => (typeof s === 'string' ? q(s) : `$${s.env}`);
const list = (xs: string[]) => `[${xs.map(q).join(', ')}]`;

/** nats-server configuration: JetStream, monitoring and one user per component. */
export function renderNatsConfig(layout: NatsServerLayout): string {
  const users = layout.users.map(
    (u) =>
      `    {\n      user: ${q(u.user)}\n      password: ${secret(u.password)}\n      permissions: {\n` +
      `        publish: { allow: ${list(u.permissions.publish)} }\n` +
      `        subscribe: { allow: ${list(u.permissions.subscribe)} }\n` +
      `        allow_responses: true\n      }\n    }`,
  );
  return [
    '# Generated by QuantumNet (libs/bus/src/nats-auth.ts). Do not edit by hand.',
    `listen: ${q(layout.listen)}`,
    ...(layout.monitor ? [`http: ${q(layout.monitor)}`] : []),
    `server_name: ${q(layout.serverName ?? 'qnet')}`,
    'max_payload: 8MB',
    ...(layout.cluster
      ? [
          `cluster {\n  name: ${q(layout.cluster.name)}\n  listen: ${q(layout.cluster.listen)}\n  routes: ${list(layout.cluster.routes)}\n}`,
        ]
      : []),
    `jetstream {\n  store_dir: ${q(layout.storeDir)}\n  max_memory_store: 256MB\n  max_file_store: 4GB\n}`,
    `authorization {\n  users = [\n${users.join('\n')}\n  ]\n}`,
    '',
  ].join('\n');
}
