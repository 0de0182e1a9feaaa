import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { defineAgentCall, defineRpc } from '../rpc.js';
import { Subjects } from '../subjects.js';
import { PageRequest } from '../pagination.js';
import {
  IsCanonicalCidr,
  IsIdToken,
  IsInterfaceName,
  IsIpAddress,
  IsSafeText,
  IsWireguardKey,
} from '../validation.js';

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
  /** The device's WireGuard public key ('' until its agent registers one). */
  public_key: string;
  status: DeviceStatus;
  config: DeviceConfigDocument;
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
  /** A routing server's first address is where endpoints reach its tunnel listener. */
  @IsOptional() @IsArray() @ArrayMaxSize(16) @IsIpAddress({ each: true }) addresses?: string[];
  /** The WireGuard public key of the device's tunnels (its agent keeps the private key). */
  @IsOptional() @IsWireguardKey() public_key?: string;
}

/** Seed 004's tunnel settings of a device; defaults in TUNNEL_DEFAULTS. */
export class TunnelDeviceConfig {
  /** A router's tunnel device; an endpoint's first one, the second numbered one more (tun0, tun1). */
  @IsOptional() @IsInterfaceName() interface_name?: string;
  /** A routing server's UDP listen port (the seed's bind_port). */
  @IsOptional() @IsInt() @Min(1) @Max(65535) port?: number;
  @IsOptional() @IsInt() @Min(1280) @Max(9000) mtu?: number;
  /** Seconds between an endpoint's WireGuard keepalives. */
  @IsOptional() @IsInt() @Min(1) @Max(3600) keepalive_interval?: number;
  /** What an endpoint routes through its active tunnel. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsCanonicalCidr({ each: true })
  routes?: string[];
  /** How often an endpoint probes each tunnel, and how many probe intervals without an answer fail it. */
  @IsOptional() @IsInt() @Min(5) @Max(10_000) probe_interval_ms?: number;
  @IsOptional() @IsInt() @Min(1) @Max(100) probe_misses?: number;
}

/** A device's configuration document (seed 004's per-device YAML, the parts the controller owns). */
export class DeviceConfigDocument {
  @IsOptional()
  @IsObject({ message: 'must be an object: {interface_name, port, mtu, routes, …}' })
  @ValidateNested()
  @Type(() => TunnelDeviceConfig)
  tunnel?: TunnelDeviceConfig;
}

export const TUNNEL_DEFAULTS = {
  interface_name: 'tun0',
  port: 51820,
  mtu: 1400,
  keepalive_interval: 10,
  probe_interval_ms: 10,
  probe_misses: 3,
} as const;

export class UpdateDeviceConfigRequest {
  @IsIdToken() device_id!: string;
  @IsObject({ message: 'must be an object: {tunnel: {…}}' })
  @ValidateNested()
  @Type(() => DeviceConfigDocument)
  config!: DeviceConfigDocument;
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
  /** Live, from the endpoint's last report: its tunnel answers probes (null: not reported). */
  up: boolean | null;
  /** This tunnel carries the endpoint's routes. */
  carries_routes: boolean;
  /** Seconds since the tunnel's last WireGuard handshake (null: none reported). */
  handshake_age_s: number | null;
}

export interface TopologyView {
  nodes: TopologyNodeView[];
  edges: TopologyEdgeView[];
}

/**
 * The event `device.tunnel_failed`: an endpoint's probes found its tunnels to these routers dead
 * and it moved its routes (to `active_router_id`, '' when none answers); the balancer gives it
 * other routers.
 */
export interface TunnelFailedEvent {
  device_id: string;
  failed_router_ids: string[];
  active_router_id: string;
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
  config: DeviceConfigDocument;
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
