import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type {
  ListenerView,
  ListLoadBalancersResponse,
  LoadBalancerStatsView,
  LoadBalancerView,
  MemberView,
} from '@qnet/contracts';
import { RpcForwarder } from '../connect/rpc-forwarder.js';

const SERVICE = 'LoadBalancerService';

/** REST face of L4 load balancing (seed 000 part 1); the seed's Connect paths work as well. */
@ApiTags('lb')
@Controller('api/v1/load-balancers')
export class LbRestController {
  constructor(private readonly rpc: RpcForwarder) {}

  @Get()
  @ApiOperation({
    summary:
      'List load balancers (filters: project_id, network_id, name, host_id, provider; page_size, page_token)',
  })
  list(@Query() query: Record<string, unknown>): Promise<ListLoadBalancersResponse> {
    return this.rpc.call(
      SERVICE,
      'ListLoadBalancers',
      this.rpc.queryToMessage('ListLoadBalancersRequest', query),
    );
  }

  @Post()
  @ApiOperation({
    summary: 'Create a load balancer: VIP reserved in the network, placed on a host',
  })
  create(@Body() body: Record<string, unknown>): Promise<LoadBalancerView> {
    return this.rpc.call(SERVICE, 'CreateLoadBalancer', body);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a load balancer with its listeners, members and health check' })
  get(@Param('id') id: string): Promise<LoadBalancerView> {
    return this.rpc.call(SERVICE, 'GetLoadBalancer', { id });
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update name, description or algorithm' })
  update(
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
  ): Promise<LoadBalancerView> {
    return this.rpc.call(SERVICE, 'UpdateLoadBalancer', { ...body, id });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a load balancer; its VIP goes back to the network' })
  async delete(@Param('id') id: string): Promise<void> {
    await this.rpc.call(SERVICE, 'DeleteLoadBalancer', { id });
  }

  @Get(':id/stats')
  @ApiOperation({ summary: 'Connections and bytes, per member, as the host last reported them' })
  stats(@Param('id') id: string): Promise<LoadBalancerStatsView> {
    return this.rpc.call(SERVICE, 'GetLoadBalancerStats', { id });
  }

  @Post(':id/listeners')
  @ApiOperation({ summary: 'Add a listener (a frontend port of the VIP)' })
  addListener(
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
  ): Promise<ListenerView> {
    return this.rpc.call(SERVICE, 'AddListener', { ...body, load_balancer_id: id });
  }

  @Delete(':id/listeners/:listenerId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a listener' })
  async removeListener(
    @Param('id') id: string,
    @Param('listenerId') listenerId: string,
  ): Promise<void> {
    await this.rpc.call(SERVICE, 'RemoveListener', {
      load_balancer_id: id,
      listener_id: listenerId,
    });
  }

  @Post(':id/members')
  @ApiOperation({ summary: 'Add a member (a backend address and port)' })
  addMember(@Param('id') id: string, @Body() body: Record<string, unknown>): Promise<MemberView> {
    return this.rpc.call(SERVICE, 'AddMember', { ...body, load_balancer_id: id });
  }

  @Patch(':id/members/:memberId')
  @ApiOperation({ summary: "Change a member's weight or admin_state_up" })
  updateMember(
    @Param('id') id: string,
    @Param('memberId') memberId: string,
    @Body() body: Record<string, unknown>,
  ): Promise<MemberView> {
    return this.rpc.call(SERVICE, 'UpdateMember', {
      ...body,
      load_balancer_id: id,
      member_id: memberId,
    });
  }

  @Delete(':id/members/:memberId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a member: no new connections reach it' })
  async removeMember(@Param('id') id: string, @Param('memberId') memberId: string): Promise<void> {
    await this.rpc.call(SERVICE, 'RemoveMember', { load_balancer_id: id, member_id: memberId });
  }

  @Put(':id/health-check')
  @ApiOperation({ summary: 'Set the health check (seed 000 §1.6 document)' })
  setHealthCheck(
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
  ): Promise<LoadBalancerView> {
    return this.rpc.call(SERVICE, 'SetHealthCheck', {
      health_check: body.health_check ?? body,
      load_balancer_id: id,
    });
  }

  @Delete(':id/health-check')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove the health check: every enabled member takes traffic' })
  async removeHealthCheck(@Param('id') id: string): Promise<void> {
    await this.rpc.call(SERVICE, 'SetHealthCheck', { load_balancer_id: id });
  }
}
