import { Module, type DynamicModule } from '@nestjs/common';
import { agentDriverController } from '@qnet/bus';
import { loadSecretBox } from '@qnet/runtime';
import { DesiredStateService, DRIVER } from './agent/desired-state.service.js';
import { GatewayStatusService } from './agent/gateway-status.service.js';
import { AuditLog } from './audit/audit-log.js';
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
    return {
      module: VpnModule,
      controllers: [
        VpnController,
        agentDriverController(DRIVER, DesiredStateService, GatewayStatusService),
      ],
      providers: [
        { provide: VPN_CONFIG, useValue: c },
        { provide: SECRET_BOX, useFactory: () => loadSecretBox(c) },
        VpnRepository,
        AuditLog,
        DesiredStateService,
        GatewayStatusService,
        GatewayChanges,
        GatewayService,
        ConnectionService,
      ],
    };
  }
}
