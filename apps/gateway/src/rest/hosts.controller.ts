import { Body, Controller, Get, Param, Patch, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { HostView, ListHostsResponse } from '@qnet/contracts';
import { RpcForwarder } from '../connect/rpc-forwarder.js';
import { NEXT_PAGE_HEADER } from './networks.controller.js';

const SERVICE = 'NetworkRegistryService';

/** REST view of hosts: the same RPCs as the Connect paths. */
@ApiTags('hosts')
@Controller('v1/hosts')
export class HostsRestController {
  constructor(private readonly rpc: RpcForwarder) {}

  @Get()
  @ApiOperation({
    summary:
      'List hosts as a JSON array (filters: health, hostname; page_size, page_token; next page token in X-Next-Page-Token)',
  })
  async list(
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HostView[]> {
    const page = await this.rpc.call<ListHostsResponse>(
      SERVICE,
      'ListHosts',
      this.rpc.queryToMessage('ListHostsRequest', query),
    );
    if (page.next_page_token) res.setHeader(NEXT_PAGE_HEADER, page.next_page_token);
    return page.hosts;
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
