import type { ServiceDefinition } from '@qnet/service';
import { vpnConfigSpec, type VpnConfig } from './config.js';
import { Vpn1732700000000 } from './migrations/1732700000000-vpn.js';
import { VpnAuditProject1733000000000 } from './migrations/1733000000000-audit-project.js';
import { VpnAgentDrivers1733200000001 } from './migrations/1733200000001-agent-drivers.js';
import { VpnModule } from './vpn.module.js';

export const vpnService: ServiceDefinition<VpnConfig> = {
  service: 'vpn',
  config: vpnConfigSpec,
  module: (c) => VpnModule.forConfig(c),
  schema: 'vpn',
  entities: [],
  migrations: [Vpn1732700000000, VpnAuditProject1733000000000, VpnAgentDrivers1733200000001],
};
