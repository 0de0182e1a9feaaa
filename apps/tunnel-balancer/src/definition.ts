import type { ServiceDefinition } from '@qnet/service';
import { TunnelBalancerModule } from './tunnel-balancer.module.js';

export const tunnelService: ServiceDefinition<object> = {
  service: 'tunnel',
  module: () => TunnelBalancerModule,
  schema: 'tunnel_balancer',
  entities: [],
  migrations: [],
};
