import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcHandler } from '@qnet/bus';
import {
  DeleteDeviceRequest,
  DeviceRpc,
  GetDeviceRequest,
  GetTopologyRequest,
  ListDevicesRequest,
  PushConfigRequest,
  RegisterDeviceRequest,
  UpdateDeviceConfigRequest,
  UpdateDeviceStatusRequest,
  type DeviceView,
  type ListDevicesResponse,
  type PushConfigResponse,
  type RegisteredDeviceView,
  type TopologyView,
} from '@qnet/contracts';
import { DeviceService } from './device.service.js';

/** Operator operations over the bus (the gateway's /api/v1/devices); device-signed ones arrive on the seed API. */
@Controller()
export class DevicesController {
  constructor(private readonly devices: DeviceService) {}

  @RpcHandler(DeviceRpc.RegisterDevice)
  register(@Payload() req: RegisterDeviceRequest): Promise<RegisteredDeviceView> {
    return this.devices.register(req);
  }

  @RpcHandler(DeviceRpc.UpdateDeviceConfig)
  config(@Payload() req: UpdateDeviceConfigRequest): Promise<DeviceView> {
    return this.devices.updateConfig(req.device_id, req.config);
  }

  @RpcHandler(DeviceRpc.UpdateDeviceStatus)
  status(@Payload() req: UpdateDeviceStatusRequest): Promise<DeviceView> {
    return this.devices.updateStatus(req);
  }

  @RpcHandler(DeviceRpc.GetDevice)
  get(@Payload() req: GetDeviceRequest): Promise<DeviceView> {
    return this.devices.get(req.device_id);
  }

  @RpcHandler(DeviceRpc.ListDevices)
  list(@Payload() req: ListDevicesRequest): Promise<ListDevicesResponse> {
    return this.devices.list(req);
  }

  @RpcHandler(DeviceRpc.DeleteDevice)
  async delete(@Payload() req: DeleteDeviceRequest): Promise<object> {
    await this.devices.delete(req.device_id);
    return {};
  }

  @RpcHandler(DeviceRpc.GetTopology)
  topology(@Payload() _req: GetTopologyRequest): Promise<TopologyView> {
    return this.devices.topology();
  }

  @RpcHandler(DeviceRpc.PushConfig)
  push(@Payload() req: PushConfigRequest): Promise<PushConfigResponse> {
    return this.devices.pushConfig(req.device_id);
  }
}
