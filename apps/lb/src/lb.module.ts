import { Module, type DynamicModule } from '@nestjs/common';
import { agentDrivers } from '@qnet/service';
import { NftRenderer, OvnRenderer } from './agent/lb-render.js';
import { LbStatusService } from './agent/lb-status.service.js';
import { BalancerService } from './balancers/balancer.service.js';
import { LbChanges } from './balancers/changes.js';
import { LbController } from './balancers/lb.controller.js';
import { LbRepository } from './balancers/lb.repository.js';
import { MemberService } from './balancers/member.service.js';
import type { LbConfig } from './config.js';
import { FailoverService } from './placement/failover.service.js';
import { LB_CONFIG } from './tokens.js';

@Module({})
export class LbModule {
  static forConfig(c: LbConfig): DynamicModule {
    const drivers = agentDrivers([
      { driver: 'lb_nft', renderer: NftRenderer, observer: LbStatusService },
      { driver: 'lb_ovn', renderer: OvnRenderer, observer: LbStatusService },
    ]);
    return {
      module: LbModule,
      controllers: [LbController, ...drivers.controllers],
      providers: [
        { provide: LB_CONFIG, useValue: c },
        ...drivers.providers,
        LbRepository,
        LbChanges,
        BalancerService,
        MemberService,
        FailoverService,
      ],
    };
  }
}
