import type { ServiceDefinition } from '@qnet/service';
import { registryConfigSpec, type RegistryConfig } from './config.js';
import { HostEntity } from './hosts/host.entity.js';
import { Hosts1732200000000 } from './migrations/1732200000000-hosts.js';
import { RegistryModule } from './registry.module.js';

export const registryService: ServiceDefinition<RegistryConfig> = {
  service: 'registry',
  config: registryConfigSpec,
  module: (c) => RegistryModule.forConfig(c),
  schema: 'network_registry',
  entities: [HostEntity],
  migrations: [Hosts1732200000000],
};
