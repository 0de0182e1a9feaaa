import { busConfigSpec, metricsConfigSpec } from '@qnet/bus';
import { env, type ConfigOf } from '@qnet/runtime';

export const agentConfigSpec = {
  hostId: env.optional('QNET_HOST_ID', {
    description: 'host id (subject token [A-Za-z0-9_-]); default: /etc/machine-id',
    pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/,
  }),
  hostname: env.optional('QNET_HOSTNAME', {
    description: 'hostname reported to the registry; default: os.hostname()',
  }),
  underlayIp: env.optional('QNET_UNDERLAY_IP', {
    description:
      'VXLAN/tunnel source address; default: first non-loopback IPv4 (in netns mode: of the namespace; 127.0.0.1 if it has none)',
  }),
  mode: env.oneOf('AGENT_MODE', ['auto', 'host', 'netns', 'dry-run'] as const, {
    description:
      "auto: netns when root, dry-run otherwise. host: the machine's own namespace (explicit only)",
    default: 'auto',
  }),
  netns: env.optional('AGENT_NETNS', {
    description: 'namespace used in netns mode, which must exist; default qnet-<hostId> (created)',
    pattern: /^[A-Za-z0-9_.-]{1,64}$/,
  }),
  heartbeatMs: env.int('HEARTBEAT_INTERVAL_MS', {
    description: 'heartbeat period',
    default: 10_000,
    min: 100,
  }),
  resyncMs: env.int('RESYNC_INTERVAL_MS', {
    description:
      'full desired-state resync period (repairs drift; an idle driver reads the host every 5th)',
    default: 30_000,
    min: 100,
  }),
  commandTimeoutMs: env.int('COMMAND_TIMEOUT_MS', {
    description: 'timeout of each command the agent runs',
    default: 10_000,
    min: 100,
  }),
  statusMs: env.int('DRIVER_STATUS_INTERVAL_MS', {
    description:
      'how often drivers with live state (WireGuard handshakes, BGP sessions) publish it',
    default: 5_000,
    min: 100,
  }),
  joinToken: env.optional('QNET_JOIN_TOKEN', {
    description:
      'one-time join token (POST /v1/join-tokens): the agent enrolls with it and keeps the NATS credentials it gets in AGENT_STATE_DIR/nats.creds',
    secret: true,
  }),
  joinUrl: env.optional('QNET_JOIN_URL', {
    description: 'the gateway the agent enrolls through, e.g. http://10.0.0.1:8080',
    pattern: /^https?:\/\/[^\s/]+\/?$/,
  }),
  stateDir: env.string('AGENT_STATE_DIR', {
    description: 'where the agent keeps what it is given (the pushed device config, 0600)',
    default: '.qnet/agent',
  }),
  runDir: env.optional('AGENT_RUN_DIR', {
    description:
      "where the agent keeps its daemons' files (dnsmasq per bridge); default /run/qnet/<hostId>",
  }),
  httpListen: env.optional('AGENT_HTTP_LISTEN', {
    description:
      "seed 003's agent API (POST /agent/v1/net/create, /agent/v1/net/delete) on [address:]port, loopback unless an address is given, e.g. 9090; off when unset",
    pattern: /^(?:[0-9A-Za-z.:[\]-]+:)?\d{1,5}$/,
  }),
  routingServer: env.bool('ROUTING_SERVER', {
    description:
      'this host is a tunnel routing server (seed 004): it registers with the device controller, runs the tunnel listener with a peer per endpoint that names it, NATs tunnelled traffic out of ROUTING_EGRESS_INTERFACE, and publishes its metrics to the balancer',
    default: false,
  }),
  tunnelEndpoint: env.bool('TUNNEL_ENDPOINT', {
    description:
      'this host is a network access endpoint (seed 004): it registers with the device controller and keeps two tunnels, to its primary and backup router, routing its routes through the one that answers',
    default: false,
  }),
  deviceControllerUrl: env.string('DEVICE_CONTROLLER_URL', {
    description:
      "the device controller's seed API, where a routing server or endpoint registers (signed)",
    default: 'http://127.0.0.1:8090',
    pattern: /^https?:\/\/[^\s/]+\/?$/,
  }),
  deviceBootstrapPsk: env.optional('DEVICE_BOOTSTRAP_PSK', {
    description:
      "the controller's bootstrap PSK: signs this device's first registration (later ones are signed with the device's own PSK, kept in AGENT_STATE_DIR/tunnel.json)",
    secret: true,
  }),
  deviceName: env.optional('DEVICE_NAME', {
    description:
      "the device's name at the controller; default: ROUTING_SERVER_NAME, else the hostname",
  }),
  routingServerName: env.optional('ROUTING_SERVER_NAME', {
    description: 'server_name in the metrics; default: the hostname',
  }),
  routingInterface: env.string('ROUTING_EGRESS_INTERFACE', {
    description:
      "a routing server's egress: tunnelled traffic leaves through it masqueraded, and its egress rate is the reported bandwidth",
    default: 'eth0',
    pattern: /^[A-Za-z0-9_.-]{1,15}$/,
  }),
  routingInternalIp: env.optional('ROUTING_INTERNAL_IP', {
    description: 'internal_ip in the metrics; default: the underlay address',
  }),
  routingExternalIp: env.optional('ROUTING_EXTERNAL_IP', {
    description:
      'external_ip in the metrics (where endpoints reach the tunnel); default: the underlay address',
  }),
  routingMetricsMs: env.int('ROUTING_METRICS_INTERVAL_MS', {
    description: "metrics period (the seed's report_interval)",
    default: 10_000,
    min: 100,
  }),
  frrPathspace: env.optional('FRR_PATHSPACE', {
    description:
      "FRR instance the frr driver configures (FRR's -N: /etc/frr/<name>, /var/run/frr/<name>); default: the node's one FRR",
    pattern: /^[A-Za-z0-9_-]{1,32}$/,
  }),
  ovnNbDb: env.optional('OVN_NB_DB', {
    description:
      'OVN northbound database for the lb_ovn driver, as ovn-nbctl --db takes it (tcp:10.0.0.5:6641, unix:/run/ovn/ovnnb_db.sock)',
    pattern: /^(tcp|ssl|unix):[^\s,]+$/,
  }),
  ...busConfigSpec,
  ...metricsConfigSpec,
};

export type AgentConfig = ConfigOf<typeof agentConfigSpec>;
