import { busConfigSpec } from '@qnet/bus';
import { env, type ConfigOf } from '@qnet/runtime';

export const gatewayConfigSpec = {
  host: env.string('GATEWAY_HOST', {
    description: 'address the HTTP API listens on',
    default: '127.0.0.1',
  }),
  port: env.int('GATEWAY_PORT', { description: 'HTTP port', default: 8080, min: 0, max: 65535 }),
  auth: env.oneOf('GATEWAY_AUTH', ['auto', 'required', 'off'] as const, {
    description:
      'auto: bearer tokens required unless listening on loopback; off is refused on a non-loopback address',
    default: 'auto',
  }),
  apiTokens: env.optional('QNET_API_TOKENS', {
    description: 'comma-separated <project>:<token> pairs; project "*" may act on every project',
    secret: true,
  }),
  rpcTimeoutMs: env.int('RPC_TIMEOUT_MS', {
    description: 'bound on every bus request made for an HTTP call',
    default: 5_000,
    min: 50,
  }),
  readyTimeoutMs: env.int('READY_TIMEOUT_MS', {
    description: 'how long /ready waits for each service Ping',
    default: 1_000,
    min: 50,
  }),
  ...busConfigSpec,
};

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const PROTO_CATALOG = Symbol('PROTO_CATALOG');
