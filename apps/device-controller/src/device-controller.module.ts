import { Module, type DynamicModule } from '@nestjs/common';
import { loadSecretBox } from '@qnet/runtime';
import { SeedControllerApi } from './api/seed-api.js';
import { RequestAuthService } from './auth/request-auth.service.js';
import type { DeviceConfig } from './config.js';
import { DeviceRepository } from './devices/device.repository.js';
import { DeviceService } from './devices/device.service.js';
import { DevicesController } from './devices/devices.controller.js';
import { DEVICE_CONFIG, SECRET_BOX } from './devices/tokens.js';

@Module({})
export class DeviceControllerModule {
  static forConfig(c: DeviceConfig): DynamicModule {
    return {
      module: DeviceControllerModule,
      controllers: [DevicesController],
      providers: [
        { provide: DEVICE_CONFIG, useValue: c },
        { provide: SECRET_BOX, useFactory: () => loadSecretBox(c) },
        DeviceRepository,
        DeviceService,
        RequestAuthService,
        SeedControllerApi,
      ],
    };
  }
}
