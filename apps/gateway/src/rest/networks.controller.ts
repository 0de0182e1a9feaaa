import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type {
  CountNetworkVmsResponse,
  ListNetworksResponse,
  ListNicsResponse,
  NetworkView,
  NicView,
} from '@qnet/contracts';
import { RpcForwarder } from '../connect/rpc-forwarder.js';

const SERVICE = 'NetworkRegistryService';

/** Lists answer a bare JSON array as seed 003 shows; the next page's token rides in a header. */
export const NEXT_PAGE_HEADER = 'X-Next-Page-Token';

/** Seed 003's `/v1/networks` API: the same RPCs as the Connect paths. */
@ApiTags('networks')
@Controller('v1/networks')
export class NetworksRestController {
  constructor(private readonly rpc: RpcForwarder) {}

  @Get()
  @ApiOperation({
    summary:
      'List networks as a JSON array (filters: type, host_id, bridge_name, project_id, name; page_size, page_token; next page token in X-Next-Page-Token)',
  })
  async list(
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<NetworkView[]> {
    const page = await this.rpc.call<ListNetworksResponse>(
      SERVICE,
      'ListNetworks',
      this.rpc.queryToMessage('ListNetworksRequest', query),
    );
    if (page.next_page_token) res.setHeader(NEXT_PAGE_HEADER, page.next_page_token);
    return page.networks;
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a network' })
  get(@Param('id') id: string): Promise<NetworkView> {
    return this.rpc.call(SERVICE, 'GetNetwork', { id });
  }

  @Post()
  @ApiOperation({
    summary: 'Create a network (seed 003 fields, network_type bridge | vlan | overlay)',
  })
  create(@Body() body: Record<string, unknown>): Promise<NetworkView> {
    return this.rpc.call(SERVICE, 'CreateNetwork', body);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update name, description, cidr, gateway, mtu, labels, host_ids' })
  update(@Param('id') id: string, @Body() body: Record<string, unknown>): Promise<NetworkView> {
    return this.rpc.call(SERVICE, 'UpdateNetwork', { ...body, id });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a network (409 while NICs are attached)' })
  async delete(@Param('id') id: string): Promise<void> {
    await this.rpc.call(SERVICE, 'DeleteNetwork', { id });
  }

  @Get(':id/vms/count')
  @ApiOperation({ summary: 'Number of VMs with a NIC on the network' })
  count(@Param('id') id: string): Promise<CountNetworkVmsResponse> {
    return this.rpc.call(SERVICE, 'CountNetworkVms', { id });
  }

  @Get(':id/nics')
  @ApiOperation({ summary: 'NICs attached to the network (JSON array; X-Next-Page-Token)' })
  async nics(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<NicView[]> {
    return listNics(this.rpc, { ...query, network_id: id }, res);
  }
}

/** VM / container NICs: attach (IPAM, MAC, auto-registration by bridge_name), detach, list. */
@ApiTags('nics')
@Controller('v1/nics')
export class NicsRestController {
  constructor(private readonly rpc: RpcForwarder) {}

  @Get()
  @ApiOperation({ summary: 'List NICs as a JSON array (filters: network_id, vm_id, host_id)' })
  list(
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<NicView[]> {
    return listNics(this.rpc, query, res);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a NIC' })
  get(@Param('id') id: string): Promise<NicView> {
    return this.rpc.call(SERVICE, 'GetNic', { id });
  }

  @Post()
  @ApiOperation({
    summary: 'Attach a NIC to a network (or to a bridge on a host: auto-registration)',
  })
  attach(@Body() body: Record<string, unknown>): Promise<NicView> {
    return this.rpc.call(SERVICE, 'AttachNic', body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Detach a NIC; its address is freed' })
  async detach(@Param('id') id: string): Promise<void> {
    await this.rpc.call(SERVICE, 'DetachNic', { id });
  }
}

async function listNics(
  rpc: RpcForwarder,
  query: Record<string, unknown>,
  res: Response,
): Promise<NicView[]> {
  const page = await rpc.call<ListNicsResponse>(
    SERVICE,
    'ListNics',
    rpc.queryToMessage('ListNicsRequest', query),
  );
  if (page.next_page_token) res.setHeader(NEXT_PAGE_HEADER, page.next_page_token);
  return page.nics;
}
