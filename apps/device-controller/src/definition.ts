import type { ServiceDefinition } from '@qnet/service';
import { deviceConfigSpec, type DeviceConfig } from './config.js';
import { DeviceControllerModule } from './device-controller.module.js';
import { Devices1732600000000 } from './migrations/1732600000000-devices.js';
import { Tunnels1733900000000 } from './migrations/1733900000000-tunnels.js';

export const deviceService: ServiceDefinition<DeviceConfig> = {
  service: 'device',
  config: deviceConfigSpec,
  module: (c) => DeviceControllerModule.forConfig(c),
  schema: 'device_controller',
  entities: [],
  migrations: [Devices1732600000000, Tunnels1733900000000],
};
