import type { ServiceDefinition } from '@qnet/service';
import { registryConfigSpec, type RegistryConfig } from './config.js';
import { Hosts1732200000000 } from './migrations/1732200000000-hosts.js';
import { Networks1732300000000 } from './migrations/1732300000000-networks.js';
import { IpReleases1733100000000 } from './migrations/1733100000000-ip-releases.js';
import { RegistryAgentDrivers1733200000001 } from './migrations/1733200000001-agent-drivers.js';
import { NicErrors1733400000000 } from './migrations/1733400000000-nic-errors.js';
import { Enrollment1733500000000 } from './migrations/1733500000000-enrollment.js';
import { NetworkModes1733600000000 } from './migrations/1733600000000-network-modes.js';
import { GuestServices1733700000000 } from './migrations/1733700000000-guest-services.js';
import { HostInterfaces1733800000000 } from './migrations/1733800000000-host-interfaces.js';
import { NicsVmIndex1734200000000 } from './migrations/1734200000000-nics-vm-index.js';
import { RegistryModule } from './registry.module.js';

export const registryService: ServiceDefinition<RegistryConfig> = {
  service: 'registry',
  config: registryConfigSpec,
  module: (c) => RegistryModule.forConfig(c),
  schema: 'network_registry',
  // Rows are read and written with SQL statements in the repositories; the migrations are the schema.
  entities: [],
  migrations: [
    Hosts1732200000000,
    Networks1732300000000,
    IpReleases1733100000000,
    RegistryAgentDrivers1733200000001,
    NicErrors1733400000000,
    Enrollment1733500000000,
    NetworkModes1733600000000,
    GuestServices1733700000000,
    HostInterfaces1733800000000,
    NicsVmIndex1734200000000,
  ],
};
