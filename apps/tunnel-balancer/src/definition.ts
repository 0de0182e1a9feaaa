import type { ServiceDefinition } from '@qnet/service';
import { tunnelConfigSpec, type TunnelConfig } from './config.js';
import { Balancer1732500000000 } from './migrations/1732500000000-balancer.js';
import { TunnelFailures1733900000000 } from './migrations/1733900000000-tunnel-failures.js';
import { EndpointsGeneration1734100000000 } from './migrations/1734100000000-endpoints-generation.js';
import { TunnelBalancerModule } from './tunnel-balancer.module.js';

export const tunnelService: ServiceDefinition<TunnelConfig> = {
  service: 'tunnel',
  config: tunnelConfigSpec,
  module: (c) => TunnelBalancerModule.forConfig(c),
  schema: 'tunnel_balancer',
  entities: [],
  migrations: [
    Balancer1732500000000,
    TunnelFailures1733900000000,
    EndpointsGeneration1734100000000,
  ],
};
