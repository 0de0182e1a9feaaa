import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type {
  ClientConfigView,
  ListAuditEventsResponse,
  ListConnectionsResponse,
  ListVpnServicesResponse,
  PresharedKeyView,
  VpnConnectionView,
  VpnServiceView,
  VpnStatusView,
} from '@qnet/contracts';
import { RpcForwarder } from '../connect/rpc-forwarder.js';

const SERVICE = 'VpnService';

/** REST face of the WireGuard bastion (seed 000 part 2); the seed's Connect paths work as well. */
@ApiTags('vpn')
@Controller('api/v1/vpn-services')
export class VpnRestController {
  constructor(private readonly rpc: RpcForwarder) {}

  @Get()
  @ApiOperation({
    summary: 'List VPN services (filters: project_id, network_id; page_size, page_token)',
  })
  list(@Query() query: Record<string, unknown>): Promise<ListVpnServicesResponse> {
    return this.rpc.call(
      SERVICE,
      'ListVpnServices',
      this.rpc.queryToMessage('ListVpnServicesRequest', query),
    );
  }

  @Post()
  @ApiOperation({ summary: 'Create a WireGuard gateway on a WireGuard-capable host' })
  create(@Body() body: Record<string, unknown>): Promise<VpnServiceView> {
    return this.rpc.call(SERVICE, 'CreateVpnService', body);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a VPN service' })
  get(@Param('id') id: string): Promise<VpnServiceView> {
    return this.rpc.call(SERVICE, 'GetVpnService', { id });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a VPN service, its connections and its interface' })
  async delete(@Param('id') id: string): Promise<void> {
    await this.rpc.call(SERVICE, 'DeleteVpnService', { id });
  }

  @Get(':id/status')
  @ApiOperation({ summary: 'Handshakes and traffic per connection, as the gateway reports them' })
  status(@Param('id') id: string): Promise<VpnStatusView> {
    return this.rpc.call(SERVICE, 'GetVpnStatus', { vpn_service_id: id });
  }

  @Post(':id/rotate-key')
  @HttpCode(200)
  @ApiOperation({ summary: "New gateway key pair (clients need the new config's public key)" })
  rotateGatewayKey(
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
  ): Promise<VpnServiceView> {
    return this.rpc.call(SERVICE, 'RotateGatewayKey', { ...body, vpn_service_id: id });
  }

  @Get(':id/audit-events')
  @ApiOperation({ summary: 'Audit trail: who created, removed, rotated; handshakes seen' })
  audit(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<ListAuditEventsResponse> {
    return this.rpc.call(SERVICE, 'ListAuditEvents', {
      ...this.rpc.queryToMessage('ListAuditEventsRequest', query),
      vpn_service_id: id,
    });
  }

  @Get(':id/connections')
  @ApiOperation({ summary: "List a service's connections (page_size, page_token)" })
  connections(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<ListConnectionsResponse> {
    return this.rpc.call(SERVICE, 'ListConnections', {
      ...this.rpc.queryToMessage('ListConnectionsRequest', query),
      vpn_service_id: id,
    });
  }

  @Post(':id/connections')
  @ApiOperation({
    summary: 'Add a client; without peer_public_key the private key is returned once',
  })
  addConnection(
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
  ): Promise<VpnConnectionView> {
    return this.rpc.call(SERVICE, 'AddConnection', { ...body, vpn_service_id: id });
  }

  @Delete(':id/connections/:connection_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a client: its peer leaves the gateway at once' })
  async removeConnection(
    @Param('id') id: string,
    @Param('connection_id') connectionId: string,
  ): Promise<void> {
    await this.rpc.call(SERVICE, 'RemoveConnection', {
      vpn_service_id: id,
      connection_id: connectionId,
    });
  }

  @Get(':id/connections/:connection_id/config')
  @ApiOperation({ summary: "The client's wg-quick config (and as a QR code SVG)" })
  config(
    @Param('id') id: string,
    @Param('connection_id') connectionId: string,
  ): Promise<ClientConfigView> {
    return this.rpc.call(SERVICE, 'GetClientConfig', {
      vpn_service_id: id,
      connection_id: connectionId,
    });
  }

  @Post(':id/connections/:connection_id/rotate-key')
  @HttpCode(200)
  @ApiOperation({ summary: 'New client key (given, or generated and returned once)' })
  rotateConnectionKey(
    @Param('id') id: string,
    @Param('connection_id') connectionId: string,
    @Body() body: Record<string, unknown>,
  ): Promise<VpnConnectionView> {
    return this.rpc.call(SERVICE, 'RotateConnectionKey', {
      ...body,
      vpn_service_id: id,
      connection_id: connectionId,
    });
  }

  @Post(':id/connections/:connection_id/preshared-key')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set a preshared key (given, or generated and returned once)' })
  setPresharedKey(
    @Param('id') id: string,
    @Param('connection_id') connectionId: string,
    @Body() body: Record<string, unknown>,
  ): Promise<PresharedKeyView> {
    return this.rpc.call(SERVICE, 'SetPresharedKey', {
      ...body,
      vpn_service_id: id,
      connection_id: connectionId,
    });
  }
}
