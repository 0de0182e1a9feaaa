import { env, type ConfigOf } from '@qnet/runtime';

const weight = (name: string, what: string, def: number) =>
  env.number(name, { description: `score weight of ${what}`, default: def, min: 0, max: 1 });

export const tunnelConfigSpec = {
  weightCpu: weight('TUNNEL_WEIGHT_CPU', 'CPU load', 0.3),
  weightMemory: weight('TUNNEL_WEIGHT_MEMORY', 'memory load', 0.2),
  weightBandwidth: weight('TUNNEL_WEIGHT_BANDWIDTH', 'egress bandwidth', 0.3),
  weightConnections: weight('TUNNEL_WEIGHT_CONNECTIONS', 'active tunnels', 0.2),
  maxBandwidthMbps: env.number('TUNNEL_MAX_BANDWIDTH_MBPS', {
    description: 'egress bandwidth counted as full load',
    default: 1000,
    min: 1,
  }),
  maxConnections: env.int('TUNNEL_MAX_CONNECTIONS', {
    description: 'active tunnels counted as full load',
    default: 100,
    min: 1,
  }),
  antiFlapThreshold: env.number('TUNNEL_ANTI_FLAP_THRESHOLD', {
    description: 'minimum score gain for an endpoint to move to another router',
    default: 0.05,
    min: 0,
    max: 1,
  }),
  antiFlapHoldMs: env.int('TUNNEL_ANTI_FLAP_HOLD_MS', {
    description: 'minimum time between two moves of one endpoint (failover excepted)',
    default: 30_000,
    min: 0,
  }),
  reportIntervalMs: env.int('TUNNEL_REPORT_INTERVAL_MS', {
    description: 'expected metrics period of a routing server',
    default: 10_000,
    min: 10,
  }),
  missedReports: env.int('TUNNEL_MISSED_REPORTS', {
    description:
      'missed reports after which a routing server is inactive and its endpoints fail over',
    default: 3,
    min: 1,
  }),
  evaluateIntervalMs: env.int('TUNNEL_EVALUATE_INTERVAL_MS', {
    description: 'how often decisions are re-evaluated (and silent routers detected)',
    default: 1_000,
    min: 10,
  }),
  businessServerIp: env.string('TUNNEL_BUSINESS_SERVER_IP', {
    description: "business_server_ip in decisions (the seed's business_server.ip)",
    default: '',
  }),
  httpHost: env.string('TUNNEL_HTTP_HOST', {
    description: "address of the seed's balancer API (/metrics, /decision, /status, /health)",
    default: '127.0.0.1',
  }),
  httpPort: env.int('TUNNEL_HTTP_PORT', {
    description: "port of the seed's balancer API (8081: the gateway holds 8080); 0 turns it off",
    default: 8081,
    min: 0,
    max: 65535,
  }),
};

export type TunnelConfig = ConfigOf<typeof tunnelConfigSpec>;
