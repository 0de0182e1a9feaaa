import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_CONNECTION } from '@qnet/bus';
import type { ProtoCatalog } from '@qnet/contracts';
import { AUTH, AuthGuard, type AuthSettings } from './auth/auth.guard.js';
import { GATEWAY_CONFIG, PROTO_CATALOG, type GatewayConfig } from './config.js';
import { RpcForwarder } from './connect/rpc-forwarder.js';
import { EventsController } from './events/events.controller.js';
import { HealthController } from './health/health.controller.js';
import { HttpErrorFilter } from './http/error.filter.js';
import { MetricsController } from './http/metrics.js';
import { BgpRestController } from './rest/bgp.controller.js';
import { LbRestController } from './rest/lb.controller.js';
import { DevicesRestController } from './rest/devices.controller.js';
import { HostsRestController, JoinTokensRestController } from './rest/hosts.controller.js';
import { NetworksRestController, NicsRestController } from './rest/networks.controller.js';
import { TunnelRestController } from './rest/tunnel.controller.js';
import { VpnRestController } from './rest/vpn.controller.js';

@Module({})
export class GatewayModule {
  static create(deps: {
    nc: NatsConnection;
    config: GatewayConfig;
    catalog: ProtoCatalog;
    auth: AuthSettings;
    rpc: RpcForwarder;
  }): DynamicModule {
    return {
      module: GatewayModule,
      imports: [TerminusModule.forRoot({ logger: false, errorLogStyle: 'json' })],
      // Connect calls (POST /limiquantix.network.v1.<Service>/<Method>) are answered before
      // these, by connectRoute (connect/connect-route.ts).
      controllers: [
        HealthController,
        MetricsController,
        HostsRestController,
        JoinTokensRestController,
        NetworksRestController,
        NicsRestController,
        TunnelRestController,
        DevicesRestController,
        VpnRestController,
        BgpRestController,
        LbRestController,
        EventsController,
      ],
      providers: [
        { provide: NATS_CONNECTION, useValue: deps.nc },
        { provide: GATEWAY_CONFIG, useValue: deps.config },
        { provide: PROTO_CATALOG, useValue: deps.catalog },
        { provide: AUTH, useValue: deps.auth },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: RpcForwarder, useValue: deps.rpc },
      ],
    };
  }
}
