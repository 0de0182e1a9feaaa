import { Module, type DynamicModule } from '@nestjs/common';
import { agentDrivers } from '@qnet/service';
import { readFileSync } from 'node:fs';
import type { NatsAuthority } from '@qnet/bus';
import type { ServiceConfig } from '@qnet/service';
import type { RegistryConfig } from './config.js';
import { EnrollmentController } from './enrollment/enrollment.controller.js';
import { EnrollmentRepository } from './enrollment/enrollment.repository.js';
import { EnrollmentService, NATS_TRUST, type NatsTrust } from './enrollment/enrollment.service.js';
import { LINUX_DRIVER, LinuxRenderer } from './desired/linux-renderer.js';
import { DNS_DOMAIN } from './dns.js';
import { HostsController } from './hosts/hosts.controller.js';
import { HostRepository } from './hosts/host.repository.js';
import { HostService } from './hosts/host.service.js';
import { HEALTH_WINDOWS, HOST_SWEEP_INTERVAL } from './hosts/tokens.js';
import { AddressAllocator } from './networks/address-allocator.js';
import { ReservationService } from './networks/reservation.service.js';
import { NetworkRepository } from './networks/network.repository.js';
import { NetworkService } from './networks/network.service.js';
import { NetworksController } from './networks/networks.controller.js';
import { NicStatusObserver } from './nics/nic-status.observer.js';
import { NicRepository } from './nics/nic.repository.js';
import { NicService } from './nics/nic.service.js';
import { NicsController } from './nics/nics.controller.js';

@Module({})
export class RegistryModule {
  static forConfig(c: RegistryConfig & ServiceConfig): DynamicModule {
    const trust: NatsTrust = {
      natsUrl: c.natsUrl,
      authority: c.natsAuthorityFile
        ? (JSON.parse(readFileSync(c.natsAuthorityFile, 'utf8')) as NatsAuthority)
        : undefined,
    };
    const drivers = agentDrivers([
      { driver: LINUX_DRIVER, renderer: LinuxRenderer, observer: NicStatusObserver },
    ]);
    return {
      module: RegistryModule,
      controllers: [
        HostsController,
        EnrollmentController,
        NetworksController,
        NicsController,
        ...drivers.controllers,
      ],
      providers: [
        ...drivers.providers,
        HostRepository,
        HostService,
        EnrollmentRepository,
        EnrollmentService,
        { provide: NATS_TRUST, useValue: trust },
        NetworkRepository,
        NetworkService,
        AddressAllocator,
        ReservationService,
        NicRepository,
        NicService,
        {
          provide: HEALTH_WINDOWS,
          useValue: { healthyMs: c.hostHealthyMs, offlineMs: c.hostOfflineMs },
        },
        { provide: HOST_SWEEP_INTERVAL, useValue: c.hostSweepMs },
        { provide: DNS_DOMAIN, useValue: c.dnsDomain },
      ],
    };
  }
}
