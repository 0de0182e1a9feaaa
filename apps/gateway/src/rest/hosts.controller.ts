import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { HostView, ListHostsResponse } from '@qnet/contracts';
import { RpcForwarder } from '../connect/rpc-forwarder.js';

const SERVICE = 'NetworkRegistryService';

/** REST view of hosts: the same RPCs as the Connect paths. */
@ApiTags('hosts')
@Controller('v1/hosts')
export class HostsRestController {
  constructor(private readonly rpc: RpcForwarder) {}

  @Get()
  @ApiOperation({ summary: 'List hosts (filters: health, hostname; page_size, page_token)' })
  list(@Query() query: Record<string, unknown>): Promise<ListHostsResponse> {
    return this.rpc.call(SERVICE, 'ListHosts', this.rpc.queryToMessage('ListHostsRequest', query));
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a host with its health and capabilities' })
  get(@Param('id') id: string): Promise<HostView> {
    return this.rpc.call(SERVICE, 'GetHost', { host_id: id });
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update the operator-owned fields of a host (description, labels)' })
  update(@Param('id') id: string, @Body() body: Record<string, unknown>): Promise<HostView> {
    return this.rpc.call(SERVICE, 'UpdateHost', { ...body, host_id: id });
  }
}
