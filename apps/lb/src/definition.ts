import type { ServiceDefinition } from '@qnet/service';
import { LbModule } from './lb.module.js';

export const lbService: ServiceDefinition<object> = {
  service: 'lb',
  module: () => LbModule,
  schema: 'lb',
  entities: [],
  migrations: [],
};
