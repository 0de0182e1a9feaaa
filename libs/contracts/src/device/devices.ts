import { ArrayMaxSize, IsArray, IsIn, IsObject, IsOptional } from 'class-validator';
import { defineAgentCall, defineRpc } from '../rpc.js';
import { Subjects } from '../subjects.js';
import { PageRequest } from '../pagination.js';
import { IsIdToken, IsIpAddress, IsSafeText } from '../validation.js';

export const DEVICE_TYPES = ['endpoint', 'routing_server'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export const DEVICE_STATUSES = ['registered', 'online', 'degraded', 'offline'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export interface DeviceView {
  device_id: string;
  type: DeviceType;
  name: string;
  addresses: string[];
  tun_ipv4: string;
  tun_ipv6: string;
  status: DeviceStatus;
  config: Record<string, unknown>;
  last_seen: string;
  registered_at: string;
}

/** Registration answer: the device's PSK is returned once, when the registration created it. */
export interface RegisteredDeviceView extends DeviceView {
  created: boolean;
  psk?: string;
}

export class RegisterDeviceRequest {
  @IsIdToken() device_id!: string;
  @IsIn(DEVICE_TYPES) type!: DeviceType;
  @IsSafeText(128) name!: string;
  @IsOptional() @IsArray() @ArrayMaxSize(16) @IsIpAddress({ each: true }) addresses?: string[];
}

export class UpdateDeviceConfigRequest {
  @IsIdToken() device_id!: string;
  @IsObject() config!: Record<string, unknown>;
}

export class UpdateDeviceStatusRequest {
  @IsIdToken() device_id!: string;
  @IsIn(DEVICE_STATUSES) status!: DeviceStatus;
  @IsOptional() @IsObject() details?: Record<string, unknown>;
}

export class GetDeviceRequest {
  @IsIdToken() device_id!: string;
}

export class DeleteDeviceRequest {
  @IsIdToken() device_id!: string;
}

export class ListDevicesRequest extends PageRequest {
  @IsOptional() @IsIn(DEVICE_TYPES) type?: DeviceType;
  @IsOptional() @IsIn(DEVICE_STATUSES) status?: DeviceStatus;
}

export interface ListDevicesResponse {
  devices: DeviceView[];
  next_page_token: string;
}

export class GetTopologyRequest {}

export interface TopologyNodeView {
  device_id: string;
  type: DeviceType;
  name: string;
  status: DeviceStatus;
}

export interface TopologyEdgeView {
  from_device_id: string;
  to_device_id: string;
  role: 'primary' | 'backup';
}

export interface TopologyView {
  nodes: TopologyNodeView[];
  edges: TopologyEdgeView[];
}

export class PushConfigRequest {
  @IsIdToken() device_id!: string;
}

export interface PushConfigResponse {
  device_id: string;
  acknowledged: boolean;
  applied_at: string;
}

/** Sent on qnet.agent.<device_id>.cmd.config; the agent stores it and answers with its ack. */
export interface DeviceConfigCommand {
  device_id: string;
  config: Record<string, unknown>;
}

export const DeviceConfigCall = defineAgentCall<DeviceConfigCommand, PushConfigResponse>((id) =>
  Subjects.agentCmd(id, 'config'),
);

export const DeviceRpc = {
  RegisterDevice: defineRpc<RegisterDeviceRequest, RegisteredDeviceView>(
    'device',
    'RegisterDevice',
    RegisterDeviceRequest,
    { protoRequest: 'RegisterDeviceRequest' },
  ),
  UpdateDeviceConfig: defineRpc<UpdateDeviceConfigRequest, DeviceView>(
    'device',
    'UpdateDeviceConfig',
    UpdateDeviceConfigRequest,
    { protoRequest: 'UpdateDeviceConfigRequest' },
  ),
  UpdateDeviceStatus: defineRpc<UpdateDeviceStatusRequest, DeviceView>(
    'device',
    'UpdateDeviceStatus',
    UpdateDeviceStatusRequest,
    { protoRequest: 'UpdateDeviceStatusRequest' },
  ),
  GetDevice: defineRpc<GetDeviceRequest, DeviceView>('device', 'GetDevice', GetDeviceRequest, {
    protoRequest: 'GetDeviceRequest',
  }),
  DeleteDevice: defineRpc<DeleteDeviceRequest, object>(
    'device',
    'DeleteDevice',
    DeleteDeviceRequest,
    { protoRequest: 'DeleteDeviceRequest' },
  ),
  ListDevices: defineRpc<ListDevicesRequest, ListDevicesResponse>(
    'device',
    'ListDevices',
    ListDevicesRequest,
    { protoRequest: 'ListDevicesRequest' },
  ),
  GetTopology: defineRpc<GetTopologyRequest, TopologyView>(
    'device',
    'GetTopology',
    GetTopologyRequest,
    { protoRequest: 'GetTopologyRequest' },
  ),
  PushConfig: defineRpc<PushConfigRequest, PushConfigResponse>(
    'device',
    'PushConfig',
    PushConfigRequest,
    { protoRequest: 'PushConfigRequest' },
  ),
};
