import { Module, type DynamicModule } from '@nestjs/common';
import { loadSecretBox } from '@qnet/runtime';
import { agentDrivers } from '@qnet/service';
import { DRIVER, WireguardRenderer } from './agent/wireguard-render.js';
import { GatewayStatusService } from './agent/gateway-status.service.js';
import { AuditLog } from './audit/audit.repository.js';
import type { VpnConfig } from './config.js';
import { VpnController } from './gateways/vpn.controller.js';
import { VpnRepository } from './gateways/vpn.repository.js';
import { GatewayChanges } from './gateways/changes.js';
import { ConnectionService } from './gateways/connection.service.js';
import { GatewayService } from './gateways/gateway.service.js';
import { SECRET_BOX, VPN_CONFIG } from './tokens.js';

@Module({})
export class VpnModule {
  static forConfig(c: VpnConfig): DynamicModule {
    const drivers = agentDrivers([
      { driver: DRIVER, renderer: WireguardRenderer, observer: GatewayStatusService },
    ]);
    return {
      module: VpnModule,
      controllers: [VpnController, ...drivers.controllers],
      providers: [
        ...drivers.providers,
        { provide: VPN_CONFIG, useValue: c },
        { provide: SECRET_BOX, useFactory: () => loadSecretBox(c) },
        VpnRepository,
        AuditLog,
        GatewayChanges,
        GatewayService,
        ConnectionService,
      ],
    };
  }
}
