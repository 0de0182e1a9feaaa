import type { ServiceDefinition } from '@qnet/service';
import { registryConfigSpec, type RegistryConfig } from './config.js';
import { Hosts1732200000000 } from './migrations/1732200000000-hosts.js';
import { RegistryModule } from './registry.module.js';

export const registryService: ServiceDefinition<RegistryConfig> = {
  service: 'registry',
  config: registryConfigSpec,
  module: (c) => RegistryModule.forConfig(c),
  schema: 'network_registry',
  // Hosts are read and written with single SQL statements (host.repository.ts); the migration is the schema.
  entities: [],
  migrations: [Hosts1732200000000],
};
