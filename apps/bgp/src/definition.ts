import type { ServiceDefinition } from '@qnet/service';
import { bgpConfigSpec, type BgpConfig } from './config.js';
import { BgpModule } from './bgp.module.js';
import { Bgp1732800000000 } from './migrations/1732800000000-bgp.js';
import { BgpAgentDrivers1733200000001 } from './migrations/1733200000001-agent-drivers.js';
import { BgpPeerStateCheck1733300000000 } from './migrations/1733300000000-peer-state-check.js';

export const bgpService: ServiceDefinition<BgpConfig> = {
  service: 'bgp',
  config: bgpConfigSpec,
  module: (c) => BgpModule.forConfig(c),
  schema: 'bgp',
  entities: [],
  migrations: [Bgp1732800000000, BgpAgentDrivers1733200000001, BgpPeerStateCheck1733300000000],
};
