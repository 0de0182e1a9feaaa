import type { ServiceDefinition } from '@qnet/service';
import { lbConfigSpec, type LbConfig } from './config.js';
import { LbModule } from './lb.module.js';
import { Lb1732900000000 } from './migrations/1732900000000-lb.js';
import { LbAgentDrivers1733200000001 } from './migrations/1733200000001-agent-drivers.js';
import { LbDriverCheck1733300000000 } from './migrations/1733300000000-driver-check.js';

export const lbService: ServiceDefinition<LbConfig> = {
  service: 'lb',
  config: lbConfigSpec,
  module: (c) => LbModule.forConfig(c),
  schema: 'lb',
  entities: [],
  migrations: [Lb1732900000000, LbAgentDrivers1733200000001, LbDriverCheck1733300000000],
};
