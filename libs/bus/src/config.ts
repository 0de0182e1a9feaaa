import { env } from '@qnet/runtime';

/** Variables every component that talks on the bus reads (services, gateway, node agent). */
export const busConfigSpec = {
  natsUrl: env.string('NATS_URL', {
    description: 'NATS server URL; a cluster: its servers comma-separated',
    default: 'nats://127.0.0.1:4222',
  }),
  natsCreds: env.optional('NATS_CREDS', {
    description: "this component's NATS credentials file (user JWT and seed, 0600)",
  }),
  logLevel: env.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, {
    description: 'log level',
    default: 'info',
  }),
};
