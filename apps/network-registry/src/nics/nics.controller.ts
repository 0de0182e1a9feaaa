import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcHandler } from '@qnet/bus';
import {
  AttachNicRequest,
  DetachNicRequest,
  GetNicRequest,
  ListNicsRequest,
  RegistryNicRpc,
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

  @RpcHandler(RegistryNicRpc.DetachNic)
  async detach(@Payload() req: DetachNicRequest): Promise<Record<string, never>> {
    await this.nics.detach(req.id);
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
