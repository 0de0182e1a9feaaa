import type { ServiceDefinition } from '@qnet/service';
import { BgpModule } from './bgp.module.js';

export const bgpService: ServiceDefinition<object> = {
  service: 'bgp',
  module: () => BgpModule,
  schema: 'bgp',
  entities: [],
  migrations: [],
};
