import { env, masterKeyConfigSpec, type ConfigOf } from '@qnet/runtime';

export const vpnConfigSpec = {
  defaultClientPool: env.string('VPN_DEFAULT_CLIENT_POOL', {
    description: 'client address pool of a service created without client_pool',
    default: '10.99.0.0/24',
  }),
  reportStaleMs: env.int('VPN_REPORT_STALE_MS', {
    description: 'a gateway whose agent has not reported for this long is OFFLINE',
    default: 30_000,
    min: 100,
  }),
  ...masterKeyConfigSpec,
};

export type VpnConfig = ConfigOf<typeof vpnConfigSpec>;
