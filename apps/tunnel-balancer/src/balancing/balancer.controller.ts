import { Controller } from '@nestjs/common';
import { EventPattern, NatsContext, Ctx, Payload } from '@nestjs/microservices';
import { RpcHandler } from '@qnet/bus';
import {
  GetDecisionRequest,
  GetStatusRequest,
  ListDecisionsRequest,
  ReportMetricsRequest,
  Subjects,
  TunnelRpc,
  type BalancerStatusView,
  type DecisionView,
  type ListDecisionsResponse,
  type ReportMetricsResponse,
} from '@qnet/contracts';
import { BalancerService } from './balancer.service.js';

@Controller()
export class BalancerController {
  constructor(private readonly balancer: BalancerService) {}

  @RpcHandler(TunnelRpc.ReportMetrics)
  report(@Payload() req: ReportMetricsRequest): Promise<ReportMetricsResponse> {
    return this.balancer.reportMetrics(req);
  }

  /** Agents in the routing-server role publish here; the subject names the sender (NATS permissions). */
  @EventPattern<Record<string, ReportMetricsRequest>>(Subjects.metricsWildcard('routing'))
  async metrics(@Payload() req: ReportMetricsRequest, @Ctx() ctx: unknown): Promise<void> {
    if ((ctx as NatsContext).getSubject().split('.')[3] !== req.server_id) return;
    await this.balancer.reportMetrics(req);
  }

  @RpcHandler(TunnelRpc.GetDecision)
  decision(@Payload() req: GetDecisionRequest): Promise<DecisionView> {
    return this.balancer.decision(req.endpoint_id);
  }

  @RpcHandler(TunnelRpc.GetStatus)
  status(@Payload() _req: GetStatusRequest): Promise<BalancerStatusView> {
    return this.balancer.status();
  }

  @RpcHandler(TunnelRpc.ListDecisions)
  list(@Payload() req: ListDecisionsRequest): Promise<ListDecisionsResponse> {
    return this.balancer.listDecisions(req);
  }
}
