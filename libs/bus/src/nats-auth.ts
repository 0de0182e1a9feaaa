import { BUS_SERVICES, type BusServiceId } from '@qnet/contracts';
import { decode } from '@nats-io/jwt';
import { inboxPrefixFor } from './connection.js';
import type { NatsAuthority } from './nats-jwt.js';

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
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

/** RPCs out; replies and the domain events (GET /v1/events) in. */
export function gatewayPermissions(): NatsPermissions {
  return { publish: ['qnet.rpc.>'], subscribe: [inbox(NATS_USERS.gateway), 'qnet.evt.>'] };
}

/**
 * Control-plane services: answer their own RPCs, call others, publish their own events, and
 * command, serve and hear only the agent drivers they own (a service answering another's desired
 * state pulls could hand an agent a forged state). The registry also takes registrations,
 * heartbeats and seed 003's agent API calls (net.create / net.delete); the tunnel balancer routing metrics and publishes decisions. Anyone may ping an agent.
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
      ...(id === 'registry'
        ? [
            'qnet.agent.*.register',
            'qnet.agent.*.heartbeat',
            'qnet.agent.*.net.create',
            'qnet.agent.*.net.delete',
          ]
        : []),
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
      `${base}.net.create`,
      `${base}.net.delete`,
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

/** The permissions of a component's NATS user, by its name (see NATS_USERS). */
export function permissionsOf(user: string): NatsPermissions {
  if (user === NATS_USERS.gateway) return gatewayPermissions();
  if (user === NATS_USERS.observer) return observerPermissions();
  const svc = BUS_SERVICES.find((s) => s.app === user);
  if (svc) return servicePermissions(svc.id);
  const host = /^agent-([A-Za-z0-9][A-Za-z0-9_-]{0,62})$/.exec(user)?.[1];
  if (host) return agentPermissions(host);
  throw new Error(`no NATS user ${user}`);
}

export interface NatsServerLayout {
  listen: string;
  /** HTTP monitoring endpoint (host:port), or undefined for none. */
  monitor?: string;
  storeDir: string;
  /** Where the server keeps the account JWTs it is sent (revocations survive restarts). */
  resolverDir: string;
  authority: NatsAuthority;
  /** Unique per server of a cluster (JetStream names its peers by it); default "qnet". */
  serverName?: string;
  /** One node of a cluster: where it listens for routes, and the other nodes' route URLs. */
  cluster?: { name: string; listen: string; routes: string[] };
}

const q = (s: string) => JSON.stringify(s);
const list = (xs: string[]) => `[${xs.map(q).join(', ')}]`;

/**
 * nats-server configuration in operator mode: JetStream, monitoring, and trust in the
 * deployment's operator. Users are not listed: each presents a JWT signed for the account, so a
 * host enrolled later connects without a change here. Only public JWTs are written.
 */
export function renderNatsConfig(layout: NatsServerLayout): string {
  const a = layout.authority;
  const system = decode(a.system.jwt).sub;
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
    `operator: ${q(a.operator.jwt)}`,
    `system_account: ${q(system)}`,
    `resolver: {\n  type: full\n  dir: ${q(layout.resolverDir)}\n  allow_delete: false\n}`,
    `resolver_preload: {\n  ${system}: ${q(a.system.jwt)}\n  ${a.account.publicKey}: ${q(a.account.jwt)}\n}`,
    '',
  ].join('\n');
}
