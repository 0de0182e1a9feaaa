import { Module, type DynamicModule } from '@nestjs/common';
import { TUNNEL_DRIVER } from '@qnet/contracts';
import { loadSecretBox } from '@qnet/runtime';
import { agentDrivers } from '@qnet/service';
import { SeedControllerApi } from './api/seed-api.js';
import { RequestAuthService } from './auth/request-auth.service.js';
import type { DeviceConfig } from './config.js';
import { DeviceRepository } from './devices/device.repository.js';
import { DeviceService } from './devices/device.service.js';
import { DevicesController } from './devices/devices.controller.js';
import { DEVICE_CONFIG, SECRET_BOX } from './devices/tokens.js';
import { DecisionFeedService } from './tunnels/decision-feed.service.js';
import { TunnelRenderer } from './tunnels/tunnel-render.js';
import { TunnelRepository } from './tunnels/tunnel.repository.js';
import { TunnelStatusService } from './tunnels/tunnel-status.service.js';

@Module({})
export class DeviceControllerModule {
  static forConfig(c: DeviceConfig): DynamicModule {
    const drivers = agentDrivers([
      { driver: TUNNEL_DRIVER, renderer: TunnelRenderer, observer: TunnelStatusService },
    ]);
    return {
      module: DeviceControllerModule,
      controllers: [DevicesController, ...drivers.controllers],
      providers: [
        ...drivers.providers,
        { provide: DEVICE_CONFIG, useValue: c },
        { provide: SECRET_BOX, useFactory: () => loadSecretBox(c) },
        DeviceRepository,
        TunnelRepository,
        DeviceService,
        DecisionFeedService,
        RequestAuthService,
        SeedControllerApi,
      ],
    };
  }
}
