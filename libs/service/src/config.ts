import { busConfigSpec, metricsConfigSpec } from '@qnet/bus';
import { env } from '@qnet/runtime';

/** Variables every control-plane service reads. */
export const serviceConfigSpec = {
  ...busConfigSpec,
  ...metricsConfigSpec,
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
  eventsReplicas: env.int('EVENTS_STREAM_REPLICAS', {
    description: 'copies of the JetStream events stream on a NATS cluster (at most its size)',
    default: 1,
    min: 1,
    max: 5,
  }),
  maxInflight: env.int('MAX_INFLIGHT_REQUESTS', {
    description: 'bus requests one instance works on at once; more are refused with 503 (retry)',
    default: 256,
    min: 1,
  }),
};
