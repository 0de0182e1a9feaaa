import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { RpcHandler } from '@qnet/bus';
import {
  AgentWildcards,
  GetHostRequest,
  HeartbeatRequest,
  hostIdOfSubject,
  ListHostsRequest,
  QnetError,
  RegisterHostRequest,
  RegistryHostRpc,
  UpdateHostRequest,
  type HeartbeatReply,
  type HostView,
  type ListHostsResponse,
  type RegisterHostReply,
} from '@qnet/contracts';
import { HostService } from './host.service.js';

@Controller()
export class HostsController {
  constructor(private readonly hosts: HostService) {}

  /** The host id in the subject is the agent's NATS identity; the payload must agree with it. */
  @MessagePattern(AgentWildcards.register)
  register(
    @Payload() req: RegisterHostRequest,
    @Ctx() ctx: NatsContext,
  ): Promise<RegisterHostReply> {
    assertSameHost(ctx, req.host_id);
    return this.hosts.register(req);
  }

  @MessagePattern(AgentWildcards.heartbeat)
  heartbeat(@Payload() req: HeartbeatRequest, @Ctx() ctx: NatsContext): Promise<HeartbeatReply> {
    assertSameHost(ctx, req.host_id);
    return this.hosts.heartbeat(req);
  }

  @RpcHandler(RegistryHostRpc.ListHosts)
  async list(@Payload() req: ListHostsRequest): Promise<ListHostsResponse> {
    const page = await this.hosts.list(req);
    return { hosts: page.items, next_page_token: page.next_page_token };
  }

  @RpcHandler(RegistryHostRpc.GetHost)
  get(@Payload() req: GetHostRequest): Promise<HostView> {
    return this.hosts.get(req.host_id);
  }

  @RpcHandler(RegistryHostRpc.UpdateHost)
  update(@Payload() req: UpdateHostRequest): Promise<HostView> {
    return this.hosts.update(req);
  }
}

function assertSameHost(ctx: NatsContext, hostId: string): void {
  if (hostIdOfSubject(ctx.getSubject()) !== hostId) {
    throw new QnetError('permission_denied', `host_id ${hostId} does not match the sending agent`);
  }
}
