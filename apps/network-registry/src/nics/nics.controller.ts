import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { RpcHandler } from '@qnet/bus';
import {
  AgentNetCreateRequest,
  AgentNetDeleteRequest,
  AgentWildcards,
  AttachNicRequest,
  DetachNicRequest,
  GetNicRequest,
  hostIdOfSubject,
  ListNicsRequest,
  QnetError,
  RegistryNicRpc,
  UpdateNicRequest,
  type ListNicsResponse,
  type NicView,
} from '@qnet/contracts';
import { NicService } from './nic.service.js';

@Controller()
export class NicsController {
  constructor(private readonly nics: NicService) {}

  @RpcHandler(RegistryNicRpc.AttachNic)
  attach(@Payload() req: AttachNicRequest): Promise<NicView> {
    return this.nics.attach(req);
  }

  @RpcHandler(RegistryNicRpc.UpdateNic)
  update(@Payload() req: UpdateNicRequest): Promise<NicView> {
    return this.nics.update(req);
  }

  @RpcHandler(RegistryNicRpc.DetachNic)
  async detach(@Payload() req: DetachNicRequest): Promise<Record<string, never>> {
    await this.nics.detach(req.id);
    return {};
  }

  /**
   * Seed 003's agent API, relayed by the agent: a TAP on a bridge of the sending agent's own host
   * (the subject is its NATS identity), attached as any NIC is — the bridge's network registered
   * if it has none — and built by the agent from its desired state.
   */
  @MessagePattern(AgentWildcards.netCreate)
  netCreate(@Payload() req: AgentNetCreateRequest, @Ctx() ctx: NatsContext): Promise<NicView> {
    const attach = Object.assign(new AttachNicRequest(), {
      bridge_name: req.bridge,
      host_id: hostIdOfSubject(ctx.getSubject())!,
      vm_id: req.tap.replace(/[^A-Za-z0-9_-]/g, '-'),
      kind: 'tap' as const,
      host_dev_name: req.tap,
      ...(req.vlan_id !== undefined ? { vlan_id: req.vlan_id } : {}),
    });
    return this.nics.attach(attach).catch(inSeedFields);
  }

  @MessagePattern(AgentWildcards.netDelete)
  async netDelete(
    @Payload() req: AgentNetDeleteRequest,
    @Ctx() ctx: NatsContext,
  ): Promise<Record<string, never>> {
    await this.nics.detachDevice(hostIdOfSubject(ctx.getSubject())!, req.tap).catch(inSeedFields);
    return {};
  }

  @RpcHandler(RegistryNicRpc.GetNic)
  get(@Payload() req: GetNicRequest): Promise<NicView> {
    return this.nics.get(req.id);
  }

  @RpcHandler(RegistryNicRpc.ListNics)
  async list(@Payload() req: ListNicsRequest): Promise<ListNicsResponse> {
    const page = await this.nics.list(req);
    return { nics: page.items, next_page_token: page.next_page_token };
  }
}

const SEED_FIELDS: Record<string, string> = { bridge_name: 'bridge', host_dev_name: 'tap' };

/** Errors name the agent API's own fields (bridge, tap), not the NIC's they became. */
function inSeedFields(err: unknown): never {
  if (!(err instanceof QnetError) || !err.details) throw err;
  const details = err.details.map((d) => ({ ...d, field: SEED_FIELDS[d.field] ?? d.field }));
  const message = err.message.replace(/\b(bridge_name|host_dev_name)\b/g, (f) => SEED_FIELDS[f]!);
  throw new QnetError(err.code, message, details);
}
