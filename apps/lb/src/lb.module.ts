import { Module, type DynamicModule } from '@nestjs/common';
import { agentDriverController } from '@qnet/bus';
import {
  DesiredStateService,
  NftDesiredState,
  OvnDesiredState,
} from './agent/desired-state.service.js';
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
    return {
      module: LbModule,
      controllers: [
        LbController,
        agentDriverController('lb_nft', NftDesiredState, LbStatusService),
        agentDriverController('lb_ovn', OvnDesiredState, LbStatusService),
      ],
      providers: [
        { provide: LB_CONFIG, useValue: c },
        LbRepository,
        LbChanges,
        DesiredStateService,
        NftDesiredState,
        OvnDesiredState,
        LbStatusService,
        BalancerService,
        MemberService,
        FailoverService,
      ],
    };
  }
}
