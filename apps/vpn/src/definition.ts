import type { ServiceDefinition } from '@qnet/service';
import { VpnModule } from './vpn.module.js';

export const vpnService: ServiceDefinition<object> = {
  service: 'vpn',
  module: () => VpnModule,
  schema: 'vpn',
  entities: [],
  migrations: [],
};
