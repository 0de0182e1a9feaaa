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
import { AuditLog } from '../audit/audit.repository.js';
import { ConnectionService } from './connection.service.js';
import { GatewayService } from './gateway.service.js';

@Controller()
export class VpnController {
  constructor(
    private readonly gateways: GatewayService,
    private readonly connections: ConnectionService,
    private readonly gatewayStatus: GatewayStatusService,
    private readonly auditLog: AuditLog,
  ) {}

  @RpcHandler(VpnRpc.CreateVpnService)
  create(@Payload() req: CreateVpnServiceRequest): Promise<VpnServiceView> {
    return this.gateways.create(req);
  }

  @RpcHandler(VpnRpc.GetVpnService)
  get(@Payload() req: GetVpnServiceRequest): Promise<VpnServiceView> {
    return this.gateways.get(req.id);
  }

  @RpcHandler(VpnRpc.ListVpnServices)
  list(@Payload() req: ListVpnServicesRequest): Promise<ListVpnServicesResponse> {
    return this.gateways.list(req);
  }

  @RpcHandler(VpnRpc.DeleteVpnService)
  async delete(@Payload() req: DeleteVpnServiceRequest): Promise<object> {
    await this.gateways.delete(req.id);
    return {};
  }

  @RpcHandler(VpnRpc.AddConnection)
  addConnection(@Payload() req: AddConnectionRequest): Promise<VpnConnectionView> {
    return this.connections.add(req);
  }

  @RpcHandler(VpnRpc.ListConnections)
  listConnections(@Payload() req: ListConnectionsRequest): Promise<ListConnectionsResponse> {
    return this.connections.list(req);
  }

  @RpcHandler(VpnRpc.RemoveConnection)
  async removeConnection(@Payload() req: RemoveConnectionRequest): Promise<object> {
    await this.connections.remove(req);
    return {};
  }

  @RpcHandler(VpnRpc.GetClientConfig)
  clientConfig(@Payload() req: GetClientConfigRequest): Promise<ClientConfigView> {
    return this.connections.clientConfig(req);
  }

  @RpcHandler(VpnRpc.RotateConnectionKey)
  rotateConnectionKey(@Payload() req: RotateConnectionKeyRequest): Promise<VpnConnectionView> {
    return this.connections.rotateKey(req);
  }

  @RpcHandler(VpnRpc.RotateGatewayKey)
  rotateGatewayKey(@Payload() req: RotateGatewayKeyRequest): Promise<VpnServiceView> {
    return this.gateways.rotateKey(req.vpn_service_id);
  }

  @RpcHandler(VpnRpc.SetPresharedKey)
  setPresharedKey(@Payload() req: SetPresharedKeyRequest): Promise<PresharedKeyView> {
    return this.connections.setPresharedKey(req);
  }

  @RpcHandler(VpnRpc.GetVpnStatus)
  status(@Payload() req: GetVpnStatusRequest): Promise<VpnStatusView> {
    return this.gatewayStatus.status(req.vpn_service_id);
  }

  @RpcHandler(VpnRpc.ListAuditEvents)
  async audit(@Payload() req: ListAuditEventsRequest): Promise<ListAuditEventsResponse> {
    const page = await this.auditLog.list(req);
    return { events: page.items, next_page_token: page.next_page_token };
  }
}
