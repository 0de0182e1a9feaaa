import { env, type ConfigOf } from '@qnet/runtime';
import { LB_PROVIDERS } from '@qnet/contracts';

export const lbConfigSpec = {
  defaultProvider: env.oneOf('LB_DEFAULT_PROVIDER', LB_PROVIDERS, {
    description: 'provider of a load balancer created without one',
    default: 'nftables',
  }),
  failoverSweepMs: env.int('LB_FAILOVER_SWEEP_MS', {
    description:
      'how often load balancers on hosts that are no longer healthy are re-placed (besides on host events)',
    default: 5_000,
    min: 100,
  }),
};

export type LbConfig = ConfigOf<typeof lbConfigSpec>;
