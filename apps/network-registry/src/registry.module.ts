import { Module, type DynamicModule } from '@nestjs/common';
import type { RegistryConfig } from './config.js';
import { HostsController } from './hosts/hosts.controller.js';
import { HostRepository } from './hosts/host.repository.js';
import { HostService } from './hosts/host.service.js';
import { HEALTH_WINDOWS, HOST_SWEEP_INTERVAL } from './hosts/tokens.js';

@Module({})
export class RegistryModule {
  static forConfig(c: RegistryConfig): DynamicModule {
    return {
      module: RegistryModule,
      controllers: [HostsController],
      providers: [
        HostRepository,
        HostService,
        {
          provide: HEALTH_WINDOWS,
          useValue: { healthyMs: c.hostHealthyMs, offlineMs: c.hostOfflineMs },
        },
        { provide: HOST_SWEEP_INTERVAL, useValue: c.hostSweepMs },
      ],
    };
  }
}
