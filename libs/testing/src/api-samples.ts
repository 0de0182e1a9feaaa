/**
 * A valid request for every RPC of the proto catalog and every REST route of the gateway, built
 * around a set of existing resources (`Refs`). The cross-tenant test sends them with another
 * project's token; the fuzz tier breaks one field at a time. Both walk the catalog and the route
 * table and fail on an operation that has no sample here, so a new RPC or route is covered as
 * soon as it exists.
 */

/** Ids of one project's resources (and the shared ones it uses). */
export interface Refs {
  project: string;
  host: string;
  network: string;
  nic: string;
  lb: string;
  listener: string;
  member: string;
  vpn: string;
  connection: string;
  speaker: string;
  peer: string;
  advertisement: string;
  device: string;
  endpoint: string;
}

/** A WireGuard public key (32 bytes, base64) that no real peer has. */
export const SAMPLE_WG_KEY = Buffer.alloc(32, 7).toString('base64');

/** A NATS user public key (valid checksum) that no enrolled host has. */
export const SAMPLE_NATS_USER_KEY = 'UALNWXXJF35VGNYXYGFULDAB3I7DES6OEP7PJQPALKPYGATDON7DBKSK';
/** Join tokens are the cluster's, not a project's: no sample project owns one. */
const SAMPLE_JOIN_TOKEN_ID = '00000000-0000-4000-8000-000000000001';
/** Path parameters of the cluster's own resources, which no project's Refs name. */
const CLUSTER_PATH_PARAMS: Record<string, string> = {
  '/v1/join-tokens/{id}': SAMPLE_JOIN_TOKEN_ID,
};

type Body = Record<string, unknown>;
type Sample = (r: Refs) => Body;

/** A valid health check (docs/compatibility.md, 000). */
export const SAMPLE_HEALTH_CHECK = {
  protocol: 'TCP',
  port: 80,
  interval_sec: 5,
  timeout_sec: 3,
  unhealthy_threshold: 3,
  healthy_threshold: 2,
};
const speaker = (r: Refs) => ({
  node_id: r.host,
  local_asn: 65001,
  router_id: '192.0.2.10',
  project_id: r.project,
});
const peer = (r: Refs) => ({
  speaker_id: r.speaker,
  name: 'tor-sample',
  peer_address: '192.0.2.1',
  peer_asn: 65000,
});

/** `<Service>/<Method>` → a valid request naming `r`'s resources. */
export const RPC_SAMPLES: Record<string, Sample> = {
  'BGPService/CreateSpeaker': speaker,
  'BGPService/CreateBGPSpeaker': speaker,
  'BGPService/GetSpeaker': (r) => ({ id: r.speaker }),
  'BGPService/ListSpeakers': (r) => ({ project_id: r.project }),
  'BGPService/DeleteSpeaker': (r) => ({ id: r.speaker }),
  'BGPService/AddPeer': peer,
  'BGPService/AddBGPPeer': peer,
  'BGPService/RemovePeer': (r) => ({ speaker_id: r.speaker, peer_id: r.peer }),
  'BGPService/ListPeers': (r) => ({ speaker_id: r.speaker }),
  'BGPService/ListBGPPeers': (r) => ({ speaker_id: r.speaker }),
  'BGPService/AdvertiseNetwork': (r) => ({
    speaker_id: r.speaker,
    prefix: '10.77.0.0/25',
    communities: ['65001:100'],
    local_pref: 100,
  }),
  'BGPService/WithdrawNetwork': (r) => ({
    speaker_id: r.speaker,
    advertisement_id: r.advertisement,
  }),
  'BGPService/ListAdvertisements': (r) => ({ speaker_id: r.speaker }),
  'BGPService/GetSpeakerStatus': (r) => ({ speaker_id: r.speaker }),

  'DeviceControllerService/RegisterDevice': (r) => ({
    device_id: r.endpoint,
    type: 'endpoint',
    name: 'sample endpoint',
  }),
  'DeviceControllerService/UpdateDeviceConfig': (r) => ({
    device_id: r.device,
    config: { tunnel: { mtu: 1400 } },
  }),
  'DeviceControllerService/UpdateDeviceStatus': (r) => ({ device_id: r.device, status: 'online' }),
  'DeviceControllerService/GetDevice': (r) => ({ device_id: r.device }),
  'DeviceControllerService/ListDevices': () => ({}),
  'DeviceControllerService/GetTopology': () => ({}),
  'DeviceControllerService/PushConfig': (r) => ({ device_id: r.device }),
  'DeviceControllerService/DeleteDevice': (r) => ({ device_id: r.device }),

  'LoadBalancerService/CreateLoadBalancer': (r) => ({
    name: 'lb-sample',
    network_id: r.network,
    algorithm: 'ROUND_ROBIN',
    protocol: 'TCP',
  }),
  'LoadBalancerService/GetLoadBalancer': (r) => ({ id: r.lb }),
  'LoadBalancerService/ListLoadBalancers': (r) => ({ project_id: r.project }),
  'LoadBalancerService/UpdateLoadBalancer': (r) => ({ id: r.lb, description: 'changed' }),
  'LoadBalancerService/DeleteLoadBalancer': (r) => ({ id: r.lb }),
  'LoadBalancerService/AddListener': (r) => ({ load_balancer_id: r.lb, port: 8443 }),
  'LoadBalancerService/RemoveListener': (r) => ({
    load_balancer_id: r.lb,
    listener_id: r.listener,
  }),
  'LoadBalancerService/AddMember': (r) => ({
    load_balancer_id: r.lb,
    address: '10.77.0.50',
    port: 8080,
    weight: 2,
  }),
  'LoadBalancerService/RemoveMember': (r) => ({ load_balancer_id: r.lb, member_id: r.member }),
  'LoadBalancerService/UpdateMember': (r) => ({
    load_balancer_id: r.lb,
    member_id: r.member,
    weight: 3,
  }),
  'LoadBalancerService/SetHealthCheck': (r) => ({
    load_balancer_id: r.lb,
    health_check: SAMPLE_HEALTH_CHECK,
  }),
  'LoadBalancerService/GetLoadBalancerStats': (r) => ({ id: r.lb }),

  'NetworkRegistryService/CreateNetwork': (r) => ({
    name: 'net-sample',
    bridge_name: 'qbrsample',
    cidr: '10.78.0.0/24',
    project_id: r.project,
  }),
  'NetworkRegistryService/GetNetwork': (r) => ({ id: r.network }),
  'NetworkRegistryService/ListNetworks': (r) => ({ project_id: r.project }),
  'NetworkRegistryService/UpdateNetwork': (r) => ({ id: r.network, description: 'changed' }),
  'NetworkRegistryService/DeleteNetwork': (r) => ({ id: r.network }),
  'NetworkRegistryService/CountNetworkVms': (r) => ({ id: r.network }),
  'NetworkRegistryService/ListHosts': () => ({}),
  'NetworkRegistryService/GetHost': (r) => ({ host_id: r.host }),
  'NetworkRegistryService/UpdateHost': (r) => ({ host_id: r.host, description: 'changed' }),
  'NetworkRegistryService/CreateJoinToken': (r) => ({ host_id: r.host, ttl_seconds: 600 }),
  'NetworkRegistryService/ListJoinTokens': () => ({}),
  'NetworkRegistryService/DeleteJoinToken': () => ({ id: SAMPLE_JOIN_TOKEN_ID }),
  'NetworkRegistryService/JoinHost': (r) => ({
    token: `qnetjoin_${'A'.repeat(43)}`,
    host_id: r.host,
    public_key: SAMPLE_NATS_USER_KEY,
  }),
  'NetworkRegistryService/RevokeHost': (r) => ({ host_id: r.host }),
  'NetworkRegistryService/AttachNic': (r) => ({
    network_id: r.network,
    host_id: r.host,
    vm_id: 'vm-sample',
  }),
  'NetworkRegistryService/UpdateNic': (r) => ({ id: r.nic, hostname: 'renamed' }),
  'NetworkRegistryService/DetachNic': (r) => ({ id: r.nic }),
  'NetworkRegistryService/GetNic': (r) => ({ id: r.nic }),
  'NetworkRegistryService/ListNics': (r) => ({ network_id: r.network }),

  'TunnelBalancerService/ReportMetrics': () => ({
    server_id: 'router_sample',
    server_name: 'Routing Server',
    timestamp: 1699660800,
    cpu_percent: 25.5,
    memory_percent: 45.2,
    bandwidth_mbps: 150.3,
    active_tunnels: 5,
    total_rx_packets: 1000,
    total_tx_packets: 900,
    internal_ip: '192.168.1.251',
    external_ip: '2001:db8::1',
  }),
  'TunnelBalancerService/GetDecision': (r) => ({ endpoint_id: r.endpoint }),
  'TunnelBalancerService/GetStatus': () => ({}),
  'TunnelBalancerService/ListDecisions': () => ({}),

  'VpnService/CreateVpnService': (r) => ({
    name: 'vpn-sample',
    network_id: r.network,
    external_ip: '203.0.113.20',
    local_subnets: ['10.77.0.0/24'],
    listen_port: 51830,
    client_pool: '10.97.0.0/24',
  }),
  'VpnService/GetVpnService': (r) => ({ id: r.vpn }),
  'VpnService/ListVpnServices': (r) => ({ project_id: r.project }),
  'VpnService/DeleteVpnService': (r) => ({ id: r.vpn }),
  'VpnService/AddConnection': (r) => ({
    vpn_service_id: r.vpn,
    name: 'laptop-sample',
    peer_public_key: SAMPLE_WG_KEY,
  }),
  'VpnService/ListConnections': (r) => ({ vpn_service_id: r.vpn }),
  'VpnService/RemoveConnection': (r) => ({ vpn_service_id: r.vpn, connection_id: r.connection }),
  'VpnService/GetClientConfig': (r) => ({ vpn_service_id: r.vpn, connection_id: r.connection }),
  'VpnService/RotateConnectionKey': (r) => ({
    vpn_service_id: r.vpn,
    connection_id: r.connection,
  }),
  'VpnService/RotateGatewayKey': (r) => ({ vpn_service_id: r.vpn }),
  'VpnService/SetPresharedKey': (r) => ({ vpn_service_id: r.vpn, connection_id: r.connection }),
  'VpnService/GetVpnStatus': (r) => ({ vpn_service_id: r.vpn }),
  'VpnService/ListAuditEvents': (r) => ({ vpn_service_id: r.vpn }),
};

/** What a path parameter names, by the route's collection and the parameter's name. */
const PATH_PARAMS: Record<string, keyof Refs> = {
  '/v1/networks/{id}': 'network',
  '/v1/nics/{id}': 'nic',
  '/v1/hosts/{id}': 'host',
  '/api/v1/load-balancers/{id}': 'lb',
  '/api/v1/vpn-services/{id}': 'vpn',
  '/api/v1/bgp-speakers/{id}': 'speaker',
  '/api/v1/devices/{id}': 'device',
  listener_id: 'listener',
  member_id: 'member',
  connection_id: 'connection',
  peer_id: 'peer',
  advertisement_id: 'advertisement',
  endpoint_id: 'endpoint',
};

/** A route's concrete path for `r`'s resources; throws on a parameter this table does not know. */
export function samplePath(template: string, r: Refs): string {
  return template.replace(/\{([^}]+)\}/g, (whole, name: string, at: number) => {
    const fixed = CLUSTER_PATH_PARAMS[template.slice(0, at) + whole];
    if (fixed) return fixed;
    const kind = PATH_PARAMS[name] ?? PATH_PARAMS[template.slice(0, at) + whole];
    if (!kind) throw new Error(`no sample for path parameter ${name} of ${template}`);
    return encodeURIComponent(r[kind]);
  });
}

/** `<METHOD> <template>` → the body a REST route takes (routes without one take none). */
export const REST_BODIES: Record<string, Sample> = {
  'POST /v1/networks': RPC_SAMPLES['NetworkRegistryService/CreateNetwork']!,
  'PATCH /v1/networks/{id}': () => ({ description: 'changed' }),
  'POST /v1/nics': RPC_SAMPLES['NetworkRegistryService/AttachNic']!,
  'PATCH /v1/nics/{id}': () => ({ hostname: 'renamed' }),
  'PATCH /v1/hosts/{id}': () => ({ description: 'changed' }),
  'POST /v1/hosts/join': RPC_SAMPLES['NetworkRegistryService/JoinHost']!,
  'POST /v1/hosts/{id}/revoke': () => ({}),
  'POST /v1/join-tokens': RPC_SAMPLES['NetworkRegistryService/CreateJoinToken']!,
  'POST /api/v1/load-balancers': RPC_SAMPLES['LoadBalancerService/CreateLoadBalancer']!,
  'PATCH /api/v1/load-balancers/{id}': () => ({ description: 'changed' }),
  'POST /api/v1/load-balancers/{id}/listeners': () => ({ port: 8443 }),
  'POST /api/v1/load-balancers/{id}/members': () => ({ address: '10.77.0.50', port: 8080 }),
  'PATCH /api/v1/load-balancers/{id}/members/{member_id}': () => ({ weight: 3 }),
  'PUT /api/v1/load-balancers/{id}/health-check': () => SAMPLE_HEALTH_CHECK,
  'POST /api/v1/vpn-services': RPC_SAMPLES['VpnService/CreateVpnService']!,
  'POST /api/v1/vpn-services/{id}/rotate-key': () => ({}),
  'POST /api/v1/vpn-services/{id}/connections': () => ({
    name: 'laptop-sample',
    peer_public_key: SAMPLE_WG_KEY,
  }),
  'POST /api/v1/vpn-services/{id}/connections/{connection_id}/rotate-key': () => ({}),
  'POST /api/v1/vpn-services/{id}/connections/{connection_id}/preshared-key': () => ({}),
  'POST /api/v1/bgp-speakers': (r) => ({
    name: 'speaker-sample',
    project_id: r.project,
    spec: { local_asn: 65001, router_id: '192.0.2.10', node_id: r.host },
  }),
  'POST /api/v1/bgp-speakers/{id}/peers': () => ({
    name: 'tor-sample',
    peer_ip: '192.0.2.1',
    remote_asn: 65000,
  }),
  'POST /api/v1/bgp-speakers/{id}/advertisements': () => ({
    cidr: '10.77.0.0/25',
    local_preference: 100,
  }),
  'POST /api/v1/devices': RPC_SAMPLES['DeviceControllerService/RegisterDevice']!,
  'POST /api/v1/devices/{id}/config': () => ({ config: { tunnel: { mtu: 1400 } } }),
  'POST /api/v1/devices/{id}/status': () => ({ status: 'online' }),
  'POST /api/v1/devices/{id}/push-config': () => ({}),
  'POST /api/v1/tunnel/metrics': RPC_SAMPLES['TunnelBalancerService/ReportMetrics']!,
};

export interface RestRoute {
  method: string;
  /** OpenAPI template, e.g. /api/v1/load-balancers/{id}/members/{member_id}. */
  template: string;
}

export interface Operation {
  /** `Service/Method` for an RPC, `METHOD template` for a REST route. */
  name: string;
  method: string;
  path: (r: Refs) => string;
  body: ((r: Refs) => Body) | undefined;
}

const CONNECT_PREFIX = '/limiquantix.network.v1.';
/**
 * Gateway routes that are not request/reply API (probes, docs, metrics), and the event stream,
 * which never ends: its scoping is test/integration/event-stream.test.ts's.
 */
const NOT_API = new Set(['/health', '/ready', '/metrics', '/v1/events']);

/**
 * Every API operation of a running gateway, from its OpenAPI document: the Connect path of each
 * proto RPC and each REST route, with its sample (a missing one throws, naming the operation).
 */
export async function apiOperations(gatewayUrl: string): Promise<Operation[]> {
  const doc = (await (await fetch(`${gatewayUrl}/docs-json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const ops: Operation[] = [];
  const missing: string[] = [];
  for (const [template, methods] of Object.entries(doc.paths)) {
    if (NOT_API.has(template)) continue;
    for (const m of Object.keys(methods)) {
      const method = m.toUpperCase();
      if (template.startsWith(CONNECT_PREFIX)) {
        const name = template.slice(CONNECT_PREFIX.length);
        const sample = RPC_SAMPLES[name];
        if (!sample) missing.push(`RPC ${name}`);
        else ops.push({ name, method, path: () => template, body: sample });
        continue;
      }
      const name = `${method} ${template}`;
      const body = REST_BODIES[name];
      if (['POST', 'PUT', 'PATCH'].includes(method) && !body) missing.push(`route ${name}`);
      ops.push({ name, method, path: (r) => samplePath(template, r), body });
    }
  }
  if (missing.length) throw new Error(`no sample request for: ${missing.join(', ')}`);
  return ops;
}

/** The proto service and method of a Connect operation name, or undefined for a REST route. */
export function rpcOf(op: Operation): { service: string; method: string } | undefined {
  const [service, method] = op.name.split('/');
  return op.name.includes(' ') || !method ? undefined : { service: service!, method };
}
