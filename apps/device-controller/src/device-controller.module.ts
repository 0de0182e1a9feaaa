import { Module } from '@nestjs/common';

/** The device-controller service's feature module: its controllers and providers are added by its own issue. */
@Module({})
export class DeviceControllerModule {}
