import type { ServiceDefinition } from '@qnet/service';
import { DeviceControllerModule } from './device-controller.module.js';

export const deviceService: ServiceDefinition<object> = {
  service: 'device',
  module: () => DeviceControllerModule,
  schema: 'device_controller',
  entities: [],
  migrations: [],
};
