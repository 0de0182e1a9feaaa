import { Inject, Injectable } from '@nestjs/common';
import { validatePayload } from '@qnet/bus';
import { GetDecisionRequest, ReportMetricsRequest } from '@qnet/contracts';
import { CompatibilityListener, healthRoute, type HttpRoute } from '@qnet/service';
import { BalancerService } from '../balancing/balancer.service.js';
import { TUNNEL_CONFIG } from '../balancing/tokens.js';
import type { TunnelConfig } from '../config.js';

/**
 * Seed 004's balancer API at its own paths, so routing servers that POST /metrics and endpoints
 * that poll GET /decision/{endpoint_id} work unchanged. Same validation and errors as the bus.
 */
@Injectable()
export class SeedBalancerApi extends CompatibilityListener {
  constructor(
    @Inject(TUNNEL_CONFIG) private readonly config: TunnelConfig,
    private readonly balancer: BalancerService,
  ) {
    super();
  }

  protected address() {
    return {
      host: this.config.httpHost,
      port: this.config.httpPort,
      portVariable: 'TUNNEL_HTTP_PORT',
    };
  }

  protected routes(): HttpRoute[] {
    return [
      {
        method: 'POST',
        path: '/metrics',
        handle: async (req) =>
          this.balancer.reportMetrics(await validatePayload(ReportMetricsRequest, req.body)),
      },
      {
        method: 'GET',
        path: '/decision/:endpoint_id',
        handle: async (req) =>
          this.balancer.decision(
            (await validatePayload(GetDecisionRequest, req.params)).endpoint_id,
          ),
      },
      { method: 'GET', path: '/status', handle: () => this.balancer.status() },
      healthRoute('tunnel-balancer'),
    ];
  }
}
