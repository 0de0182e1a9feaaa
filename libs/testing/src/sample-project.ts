import {
  BUS_SERVICES,
  PROTO_PACKAGE,
  type BgpAdvertisementView,
  type BgpPeerView,
  type BgpSpeakerView,
  type LoadBalancerView,
  type NetworkView,
  type NicView,
  type VpnConnectionView,
  type VpnServiceView,
} from '@qnet/contracts';
import { SAMPLE_HEALTH_CHECK, type Refs } from './api-samples.js';
import type { TestDatabase } from './database.js';

export interface Reply {
  status: number;
  text: string;
}

/** The gateway as one caller (a bearer token, or none) sees it. */
export class ApiCaller {
  constructor(
    private readonly gatewayUrl: string,
    private readonly token?: string,
  ) {}

  async http(method: string, path: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${this.gatewayUrl}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  }

  /** A request that must succeed: its JSON reply. */
  async make<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.http(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return JSON.parse(res.text) as T;
  }

  rpc<T>(service: string, method: string, body: object): Promise<T> {
    return this.make<T>('POST', `/${PROTO_PACKAGE}.${service}/${method}`, body);
  }
}

/**
 * One project's network, NIC, load balancer (listener, member, health check), VPN service and
 * connection on `host`, made through the API; the BGP and device refs are left empty.
 */
export async function createSampleProject(
  api: ApiCaller,
  project: string,
  host: string,
  opts: { cidr: string; vpnPort: number; clientPool: string },
): Promise<Refs> {
  const network = await api.make<NetworkView>('POST', '/v1/networks', {
    name: `${project}-net`,
    bridge_name: `qbr${project}`.slice(0, 15),
    host_id: host,
    cidr: `${opts.cidr}.0/24`,
    gateway: `${opts.cidr}.1`,
    project_id: project,
  });
  const nic = await api.make<NicView>('POST', '/v1/nics', {
    network_id: network.id,
    host_id: host,
    vm_id: `${project}-vm`,
  });
  const lb = await api.rpc<LoadBalancerView>('LoadBalancerService', 'CreateLoadBalancer', {
    name: `${project}-lb`,
    network_id: network.id,
    project_id: project,
  });
  const listener = await api.rpc<{ id: string }>('LoadBalancerService', 'AddListener', {
    load_balancer_id: lb.id,
    port: 80,
  });
  const member = await api.rpc<{ id: string }>('LoadBalancerService', 'AddMember', {
    load_balancer_id: lb.id,
    address: `${opts.cidr}.20`,
    port: 80,
  });
  await api.rpc('LoadBalancerService', 'SetHealthCheck', {
    load_balancer_id: lb.id,
    health_check: SAMPLE_HEALTH_CHECK,
  });
  const vpn = await api.rpc<VpnServiceView>('VpnService', 'CreateVpnService', {
    name: `${project}-vpn`,
    network_id: network.id,
    project_id: project,
    external_ip: '203.0.113.10',
    local_subnets: [`${opts.cidr}.0/24`],
    listen_port: opts.vpnPort,
    client_pool: opts.clientPool,
  });
  const connection = await api.rpc<VpnConnectionView>('VpnService', 'AddConnection', {
    vpn_service_id: vpn.id,
    name: `${project}-laptop`,
  });
  await api.rpc('VpnService', 'SetPresharedKey', {
    vpn_service_id: vpn.id,
    connection_id: connection.id,
  });
  return {
    project,
    host,
    network: network.id,
    nic: nic.id,
    lb: lb.id,
    listener: listener.id,
    member: member.id,
    vpn: vpn.id,
    connection: connection.id,
    speaker: '',
    peer: '',
    advertisement: '',
    device: '',
    endpoint: '',
  };
}

/**
 * A BGP speaker on the project's host with one ToR peer and one advertisement of `prefix` (inside
 * the project's network), recorded in `refs`. A host takes one speaker, so one project per cluster.
 */
export async function addSampleBgp(
  api: ApiCaller,
  refs: Refs,
  opts: { prefix: string; password?: string },
): Promise<void> {
  const speaker = await api.rpc<BgpSpeakerView>('BGPService', 'CreateSpeaker', {
    node_id: refs.host,
    local_asn: 65001,
    router_id: '192.0.2.10',
    project_id: refs.project,
  });
  const peer = await api.rpc<BgpPeerView>('BGPService', 'AddPeer', {
    speaker_id: speaker.id,
    name: 'tor-1',
    peer_address: '192.0.2.1',
    peer_asn: 65000,
    ...(opts.password ? { password: opts.password } : {}),
  });
  const ad = await api.rpc<BgpAdvertisementView>('BGPService', 'AdvertiseNetwork', {
    speaker_id: speaker.id,
    prefix: opts.prefix,
  });
  Object.assign(refs, { speaker: speaker.id, peer: peer.id, advertisement: ad.id });
}

/** Columns the agents' reports and heartbeats keep changing; everything else must stand still. */
const VOLATILE = [
  'last_seen_at',
  'applied',
  'error',
  'reported_at',
  'frr_running',
  'observed_at',
  'health',
  'active_connections',
  'total_connections',
  'bytes_in',
  'bytes_out',
  'state',
  'prefixes_received',
  'prefixes_sent',
  'established_at',
  'last_error',
  'active',
  'latest_handshake',
  'rx_bytes',
  'tx_bytes',
  'endpoint',
  'last_seen',
];

/**
 * A hash of every row of every service's tables, minus what agents keep reporting: equal before
 * and after a request means the request changed nothing.
 */
export async function databaseFingerprint(db: TestDatabase): Promise<Record<string, string>> {
  const tables = await db.query<{ s: string; t: string }>(
    `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
     WHERE table_schema = ANY($1) AND table_name NOT IN ('migrations', 'seen_signatures', 'outbox')
     ORDER BY 1, 2`,
    [BUS_SERVICES.map((s) => s.app.replace(/-/g, '_'))],
  );
  const parts = await Promise.all(
    tables.map(async ({ s, t }) => {
      const [row] = await db.query<{ h: string | null }>(
        `SELECT md5(string_agg((to_jsonb(x) - $1::text[])::text, '|' ORDER BY (to_jsonb(x) - $1::text[])::text)) AS h
         FROM "${s}"."${t}" x`,
        [VOLATILE],
      );
      return [`${s}.${t}`, row!.h ?? ''] as const;
    }),
  );
  return Object.fromEntries(parts);
}
