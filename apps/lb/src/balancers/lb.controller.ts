import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcHandler } from '@qnet/bus';
import {
  AddListenerRequest,
  AddMemberRequest,
  CreateLoadBalancerRequest,
  DeleteLoadBalancerRequest,
  GetLoadBalancerRequest,
  GetLoadBalancerStatsRequest,
  LbRpc,
  ListLoadBalancersRequest,
  RemoveListenerRequest,
  RemoveMemberRequest,
  SetHealthCheckRequest,
  UpdateLoadBalancerRequest,
  UpdateMemberRequest,
  type ListenerView,
  type ListLoadBalancersResponse,
  type LoadBalancerStatsView,
  type LoadBalancerView,
  type MemberView,
} from '@qnet/contracts';
import { BalancerService } from './balancer.service.js';
import { MemberService } from './member.service.js';

/** LoadBalancerService (API 000, docs/compatibility.md). */
@Controller()
export class LbController {
  constructor(
    private readonly balancers: BalancerService,
    private readonly members: MemberService,
  ) {}

  @RpcHandler(LbRpc.CreateLoadBalancer)
  create(@Payload() req: CreateLoadBalancerRequest): Promise<LoadBalancerView> {
    return this.balancers.create(req);
  }

  @RpcHandler(LbRpc.GetLoadBalancer)
  get(@Payload() req: GetLoadBalancerRequest): Promise<LoadBalancerView> {
    return this.balancers.get(req.id);
  }

  @RpcHandler(LbRpc.ListLoadBalancers)
  list(@Payload() req: ListLoadBalancersRequest): Promise<ListLoadBalancersResponse> {
    return this.balancers.list(req);
  }

  @RpcHandler(LbRpc.UpdateLoadBalancer)
  update(@Payload() req: UpdateLoadBalancerRequest): Promise<LoadBalancerView> {
    return this.balancers.update(req);
  }

  @RpcHandler(LbRpc.DeleteLoadBalancer)
  async delete(@Payload() req: DeleteLoadBalancerRequest): Promise<Record<string, never>> {
    await this.balancers.delete(req.id);
    return {};
  }

  @RpcHandler(LbRpc.AddListener)
  addListener(@Payload() req: AddListenerRequest): Promise<ListenerView> {
    return this.members.addListener(req);
  }

  @RpcHandler(LbRpc.RemoveListener)
  async removeListener(@Payload() req: RemoveListenerRequest): Promise<Record<string, never>> {
    await this.members.removeListener(req.load_balancer_id, req.listener_id);
    return {};
  }

  @RpcHandler(LbRpc.AddMember)
  addMember(@Payload() req: AddMemberRequest): Promise<MemberView> {
    return this.members.addMember(req);
  }

  @RpcHandler(LbRpc.RemoveMember)
  async removeMember(@Payload() req: RemoveMemberRequest): Promise<Record<string, never>> {
    await this.members.removeMember(req.load_balancer_id, req.member_id);
    return {};
  }

  @RpcHandler(LbRpc.UpdateMember)
  updateMember(@Payload() req: UpdateMemberRequest): Promise<MemberView> {
    return this.members.updateMember(req);
  }

  @RpcHandler(LbRpc.SetHealthCheck)
  setHealthCheck(@Payload() req: SetHealthCheckRequest): Promise<LoadBalancerView> {
    return this.balancers.setHealthCheck(req);
  }

  @RpcHandler(LbRpc.GetLoadBalancerStats)
  stats(@Payload() req: GetLoadBalancerStatsRequest): Promise<LoadBalancerStatsView> {
    return this.balancers.stats(req.id);
  }
}
