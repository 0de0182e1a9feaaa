import { env, type ConfigOf } from '@qnet/runtime';

export const registryConfigSpec = {
  hostHealthyMs: env.int('HOST_HEALTHY_WINDOW_MS', {
    description: 'a host seen within this is healthy',
    default: 30_000,
    min: 100,
  }),
  hostOfflineMs: env.int('HOST_OFFLINE_AFTER_MS', {
    description: 'a host unseen for this long is offline (degraded before)',
    default: 300_000,
    min: 100,
  }),
  natsAuthorityFile: env.optional('QNET_NATS_AUTHORITY_FILE', {
    description:
      'the NATS authority (JSON, 0600) this registry signs enrolled hosts’ credentials with; without it, join tokens are refused',
  }),
  dnsDomain: env.string('QNET_DNS_DOMAIN', {
    description: "the guests' DNS domain: a network's names live in <network>.<domain>",
    default: 'qnet.internal',
    pattern:
      /^(?=.{1,200}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
  }),
  hostSweepMs: env.int('HOST_SWEEP_INTERVAL_MS', {
    description: 'how often host health transitions are recorded',
    default: 5_000,
    min: 50,
  }),
};

export type RegistryConfig = ConfigOf<typeof registryConfigSpec>;
