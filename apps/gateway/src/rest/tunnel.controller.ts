import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { BalancerStatusView, DecisionView, ReportMetricsResponse } from '@qnet/contracts';
import { RpcForwarder } from '../connect/rpc-forwarder.js';

const SERVICE = 'TunnelBalancerService';

/** Seed 004's balancer API under the gateway (the seed's own paths answer on the balancer's port). */
@ApiTags('tunnel')
@Controller('api/v1/tunnel')
export class TunnelRestController {
  constructor(private readonly rpc: RpcForwarder) {}

  @Post('metrics')
  @HttpCode(200)
  @ApiOperation({ summary: "Report a routing server's metrics (the seed's document)" })
  metrics(@Body() body: Record<string, unknown>): Promise<ReportMetricsResponse> {
    return this.rpc.call(SERVICE, 'ReportMetrics', body);
  }

  @Get('decision/:endpoint_id')
  @ApiOperation({
    summary: "An endpoint's primary and backup router (404 unknown, 503 none active)",
  })
  decision(@Param('endpoint_id') endpointId: string): Promise<DecisionView> {
    return this.rpc.call(SERVICE, 'GetDecision', { endpoint_id: endpointId });
  }

  @Get('status')
  @ApiOperation({
    summary: 'Routing servers with their metrics and scores, and the number of decisions',
  })
  status(): Promise<BalancerStatusView> {
    return this.rpc.call(SERVICE, 'GetStatus', {});
  }
}
