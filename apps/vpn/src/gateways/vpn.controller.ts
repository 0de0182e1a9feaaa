import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcHandler } from '@qnet/bus';
import {
  AddConnectionRequest,
  CreateVpnServiceRequest,
  DeleteVpnServiceRequest,
  GetClientConfigRequest,
  GetVpnServiceRequest,
  GetVpnStatusRequest,
  ListAuditEventsRequest,
  ListConnectionsRequest,
  ListVpnServicesRequest,
  RemoveConnectionRequest,
  RotateConnectionKeyRequest,
  RotateGatewayKeyRequest,
  SetPresharedKeyRequest,
  VpnRpc,
  type ClientConfigView,
  type ListAuditEventsResponse,
  type ListConnectionsResponse,
  type ListVpnServicesResponse,
  type PresharedKeyView,
  type VpnConnectionView,
  type VpnServiceView,
  type VpnStatusView,
} from '@qnet/contracts';
import { GatewayStatusService } from '../agent/gateway-status.service.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { VpnRepository } from './vpn.repository.js';
import { VpnService } from './vpn.service.js';

@Controller()
export class VpnController {
  constructor(
    private readonly vpn: VpnService,
    private readonly gatewayStatus: GatewayStatusService,
    private readonly repo: VpnRepository,
    private readonly auditLog: AuditRepository,
  ) {}

  @RpcHandler(VpnRpc.CreateVpnService)
  create(@Payload() req: CreateVpnServiceRequest): Promise<VpnServiceView> {
    return this.vpn.create(req);
  }

  @RpcHandler(VpnRpc.GetVpnService)
  get(@Payload() req: GetVpnServiceRequest): Promise<VpnServiceView> {
    return this.vpn.get(req.id);
  }

  @RpcHandler(VpnRpc.ListVpnServices)
  list(@Payload() req: ListVpnServicesRequest): Promise<ListVpnServicesResponse> {
    return this.vpn.list(req);
  }

  @RpcHandler(VpnRpc.DeleteVpnService)
  async delete(@Payload() req: DeleteVpnServiceRequest): Promise<object> {
    await this.vpn.delete(req.id);
    return {};
  }

  @RpcHandler(VpnRpc.AddConnection)
  addConnection(@Payload() req: AddConnectionRequest): Promise<VpnConnectionView> {
    return this.vpn.addConnection(req);
  }

  @RpcHandler(VpnRpc.ListConnections)
  listConnections(@Payload() req: ListConnectionsRequest): Promise<ListConnectionsResponse> {
    return this.vpn.listConnections(req);
  }

  @RpcHandler(VpnRpc.RemoveConnection)
  async removeConnection(@Payload() req: RemoveConnectionRequest): Promise<object> {
    await this.vpn.removeConnection(req);
    return {};
  }

  @RpcHandler(VpnRpc.GetClientConfig)
  clientConfig(@Payload() req: GetClientConfigRequest): Promise<ClientConfigView> {
    return this.vpn.clientConfig(req);
  }

  @RpcHandler(VpnRpc.RotateConnectionKey)
  rotateConnectionKey(@Payload() req: RotateConnectionKeyRequest): Promise<VpnConnectionView> {
    return this.vpn.rotateConnectionKey(req);
  }

  @RpcHandler(VpnRpc.RotateGatewayKey)
  rotateGatewayKey(@Payload() req: RotateGatewayKeyRequest): Promise<VpnServiceView> {
    return this.vpn.rotateGatewayKey(req.vpn_service_id);
  }

  @RpcHandler(VpnRpc.SetPresharedKey)
  setPresharedKey(@Payload() req: SetPresharedKeyRequest): Promise<PresharedKeyView> {
    return this.vpn.setPresharedKey(req);
  }

  @RpcHandler(VpnRpc.GetVpnStatus)
  status(@Payload() req: GetVpnStatusRequest): Promise<VpnStatusView> {
    return this.gatewayStatus.status(req.vpn_service_id);
  }

  @RpcHandler(VpnRpc.ListAuditEvents)
  async audit(@Payload() req: ListAuditEventsRequest): Promise<ListAuditEventsResponse> {
    await this.repo.hostOf(req.vpn_service_id).catch(async (err: unknown) => {
      // Audit outlives its service: a deleted service's trail is still readable.
      const page = await this.auditLog.list({ ...req, page_size: 1 });
      if (!page.items.length) throw err;
    });
    const page = await this.auditLog.list(req);
    return { events: page.items, next_page_token: page.next_page_token };
  }
}
