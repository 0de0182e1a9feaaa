import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type {
  DeviceView,
  ListDevicesResponse,
  PushConfigResponse,
  RegisteredDeviceView,
  TopologyView,
} from '@qnet/contracts';
import { RpcForwarder } from '../connect/rpc-forwarder.js';

const SERVICE = 'DeviceControllerService';

/** Seed 004's controller API for operators (gateway auth); devices sign requests to the controller's own port. */
@ApiTags('devices')
@Controller('api/v1/devices')
export class DevicesRestController {
  constructor(private readonly rpc: RpcForwarder) {}

  @Get()
  @ApiOperation({ summary: 'List devices (filters: type, status; page_size, page_token)' })
  list(@Query() query: Record<string, unknown>): Promise<ListDevicesResponse> {
    return this.rpc.call(
      SERVICE,
      'ListDevices',
      this.rpc.queryToMessage('ListDevicesRequest', query),
    );
  }

  @Post()
  @ApiOperation({ summary: 'Register a device: tunnel IPv4 and IPv6 from the pools; its PSK once' })
  register(@Body() body: Record<string, unknown>): Promise<RegisteredDeviceView> {
    return this.rpc.call(SERVICE, 'RegisterDevice', body);
  }

  @Get('topology')
  @ApiOperation({ summary: 'Devices as nodes, endpoint → primary/backup router edges' })
  topology(): Promise<TopologyView> {
    return this.rpc.call(SERVICE, 'GetTopology', {});
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a device' })
  get(@Param('id') id: string): Promise<DeviceView> {
    return this.rpc.call(SERVICE, 'GetDevice', { device_id: id });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a device; its tunnel addresses are freed' })
  async delete(@Param('id') id: string): Promise<void> {
    await this.rpc.call(SERVICE, 'DeleteDevice', { device_id: id });
  }

  @Post(':id/config')
  @HttpCode(200)
  @ApiOperation({ summary: "Replace a device's configuration" })
  config(@Param('id') id: string, @Body() body: Record<string, unknown>): Promise<DeviceView> {
    return this.rpc.call(SERVICE, 'UpdateDeviceConfig', { ...body, device_id: id });
  }

  @Post(':id/status')
  @HttpCode(200)
  @ApiOperation({ summary: "Record a device's status" })
  status(@Param('id') id: string, @Body() body: Record<string, unknown>): Promise<DeviceView> {
    return this.rpc.call(SERVICE, 'UpdateDeviceStatus', { ...body, device_id: id });
  }

  @Post(':id/push-config')
  @HttpCode(200)
  @ApiOperation({ summary: "Send the config to the device's agent; its acknowledgement, or 504" })
  push(
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
  ): Promise<PushConfigResponse> {
    return this.rpc.call(SERVICE, 'PushConfig', { ...body, device_id: id });
  }
}
