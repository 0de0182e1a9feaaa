import { env } from '@qnet/runtime';

/** Variables every control-plane service reads. */
export const serviceConfigSpec = {
  natsUrl: env.string('NATS_URL', {
    description: 'NATS server URL',
    default: 'nats://127.0.0.1:4222',
  }),
  natsUser: env.optional('NATS_USER', { description: "the component's NATS user (deploy/nats)" }),
  natsPassword: env.optional('NATS_PASSWORD', {
    description: "the component's NATS password",
    secret: true,
  }),
  databaseUrl: env.string('DATABASE_URL', {
    description: 'PostgreSQL URL; each service uses its own schema in it',
    default: 'postgres://postgres@127.0.0.1:5432/postgres',
  }),
  databasePoolSize: env.int('DATABASE_POOL_SIZE', {
    description: 'connections per service instance',
    default: 10,
    min: 1,
    max: 200,
  }),
  logLevel: env.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, {
    description: 'log level',
    default: 'info',
  }),
};
