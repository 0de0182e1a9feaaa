import { Module, type DynamicModule } from '@nestjs/common';
import { SeedBalancerApi } from './api/seed-api.js';
import { BalancerController } from './balancing/balancer.controller.js';
import { BalancerRepository } from './balancing/balancer.repository.js';
import { BalancerService } from './balancing/balancer.service.js';
import { EndpointFeedService } from './balancing/endpoint-feed.service.js';
import { EvaluatorService } from './balancing/evaluator.service.js';
import { TUNNEL_CONFIG } from './balancing/tokens.js';
import type { TunnelConfig } from './config.js';

@Module({})
export class TunnelBalancerModule {
  static forConfig(c: TunnelConfig): DynamicModule {
    return {
      module: TunnelBalancerModule,
      controllers: [BalancerController],
      providers: [
        { provide: TUNNEL_CONFIG, useValue: c },
        BalancerRepository,
        EvaluatorService,
        BalancerService,
        EndpointFeedService,
        SeedBalancerApi,
      ],
    };
  }
}
