import { Module, type DynamicModule } from '@nestjs/common';
import { loadSecretBox } from '@qnet/runtime';
import { agentDrivers } from '@qnet/service';
import { DRIVER, FrrRenderer } from './agent/frr-render.js';
import { SessionStatusService } from './agent/session-status.service.js';
import type { BgpConfig } from './config.js';
import { AdvertisementService } from './speakers/advertisement.service.js';
import { BgpController } from './speakers/bgp.controller.js';
import { BgpRepository } from './speakers/bgp.repository.js';
import { SpeakerChanges } from './speakers/changes.js';
import { PeerService } from './speakers/peer.service.js';
import { RouteFilter } from './speakers/registry.js';
import { SpeakerService } from './speakers/speaker.service.js';
import { ROUTE_FILTER, SECRET_BOX } from './tokens.js';

@Module({})
export class BgpModule {
  static forConfig(c: BgpConfig): DynamicModule {
    const drivers = agentDrivers([
      { driver: DRIVER, renderer: FrrRenderer, observer: SessionStatusService },
    ]);
    return {
      module: BgpModule,
      controllers: [BgpController, ...drivers.controllers],
      providers: [
        ...drivers.providers,
        { provide: SECRET_BOX, useFactory: () => loadSecretBox(c) },
        { provide: ROUTE_FILTER, useFactory: () => new RouteFilter(c.allowedPrefixes) },
        BgpRepository,
        SpeakerChanges,
        SpeakerService,
        PeerService,
        AdvertisementService,
      ],
    };
  }
}
