import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_CONNECTION, SERVICE_INFO, type ServiceInfo } from './tokens.js';

@Global()
@Module({})
export class BusModule {
  static forConnection(nc: NatsConnection, info: ServiceInfo): DynamicModule {
    return {
      module: BusModule,
      providers: [
        { provide: NATS_CONNECTION, useValue: nc },
        { provide: SERVICE_INFO, useValue: info },
      ],
      exports: [NATS_CONNECTION, SERVICE_INFO],
    };
  }
}
