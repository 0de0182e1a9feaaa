import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcHandler } from '@qnet/bus';
import {
  CreateJoinTokenRequest,
  DeleteJoinTokenRequest,
  JoinHostRequest,
  ListJoinTokensRequest,
  RegistryEnrollmentRpc,
  RevokeHostRequest,
  type CreateJoinTokenResponse,
  type JoinHostResponse,
  type ListJoinTokensResponse,
  type RevokeHostResponse,
} from '@qnet/contracts';
import { EnrollmentService } from './enrollment.service.js';

@Controller()
export class EnrollmentController {
  constructor(private readonly enrollment: EnrollmentService) {}

  @RpcHandler(RegistryEnrollmentRpc.CreateJoinToken)
  create(@Payload() req: CreateJoinTokenRequest): Promise<CreateJoinTokenResponse> {
    return this.enrollment.createToken(req);
  }

  @RpcHandler(RegistryEnrollmentRpc.ListJoinTokens)
  async list(@Payload() req: ListJoinTokensRequest): Promise<ListJoinTokensResponse> {
    const page = await this.enrollment.listTokens(req);
    return { join_tokens: page.items, next_page_token: page.next_page_token };
  }

  @RpcHandler(RegistryEnrollmentRpc.DeleteJoinToken)
  delete(@Payload() req: DeleteJoinTokenRequest): Promise<Record<string, never>> {
    return this.enrollment.deleteToken(req.id);
  }

  @RpcHandler(RegistryEnrollmentRpc.JoinHost)
  join(@Payload() req: JoinHostRequest): Promise<JoinHostResponse> {
    return this.enrollment.join(req);
  }

  @RpcHandler(RegistryEnrollmentRpc.RevokeHost)
  revoke(@Payload() req: RevokeHostRequest): Promise<RevokeHostResponse> {
    return this.enrollment.revoke(req.host_id);
  }
}
