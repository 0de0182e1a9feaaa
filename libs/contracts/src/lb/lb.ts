import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsUUID,
  Matches,
  IsObject,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { defineRpc } from '../rpc.js';
import { PageRequest } from '../pagination.js';
import type { OperatingStatus, ProvisioningStatus } from '../registry/networks.js';
import { IsIdToken, IsIpAddress, IsLabels, IsResourceName, IsSafeText } from '../validation.js';

export const LB_ALGORITHMS = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP', 'WEIGHTED'] as const;
export type LbAlgorithm = (typeof LB_ALGORITHMS)[number];
export const LB_PROTOCOLS = ['TCP', 'UDP'] as const;
export type LbProtocol = (typeof LB_PROTOCOLS)[number];
/** Who realizes a load balancer: host nftables on its host, or OVN northbound rows. */
export const LB_PROVIDERS = ['nftables', 'ovn'] as const;
export type LbProvider = (typeof LB_PROVIDERS)[number];
/** Octavia's provider capability matrix: what each provider can balance by. */
export const PROVIDER_ALGORITHMS: Record<LbProvider, readonly LbAlgorithm[]> = {
  nftables: LB_ALGORITHMS,
  // OVN selects a backend by hashing: source address (selection_fields) is the only choice.
  ovn: ['SOURCE_IP'],
};
/** A member's last health-check result; UNKNOWN until its first check. */
export const MEMBER_HEALTH = ['UNKNOWN', 'ONLINE', 'OFFLINE'] as const;
export type MemberHealth = (typeof MEMBER_HEALTH)[number];

export const MAX_MEMBER_WEIGHT = 256;
/** OVN logical switch and port names as ovn-nbctl takes them: never mistaken for an option. */
export const OVN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,62}$/;

/** The OVN logical switch of a registry network: its name, or qnet-<id> when that is no OVN name. */
export const logicalSwitchOf = (network: { id: string; name: string }) =>
  OVN_NAME.test(network.name) ? network.name : `qnet-${network.id}`;

export interface HealthCheckView {
  protocol: LbProtocol;
  /** null: each member's own port. */
  port: number | null;
  interval_sec: number;
  timeout_sec: number;
  unhealthy_threshold: number;
  healthy_threshold: number;
}

export interface ListenerView {
  id: string;
  load_balancer_id: string;
  name: string;
  port: number;
  protocol: LbProtocol;
  provisioning_status: ProvisioningStatus;
  operating_status: OperatingStatus;
}

export interface MemberView {
  id: string;
  load_balancer_id: string;
  address: string;
  port: number;
  weight: number;
  admin_state_up: boolean;
  logical_port: string;
  provisioning_status: ProvisioningStatus;
  /** NO_MONITOR without a health check (or before its first result); OFFLINE when admin down. */
  operating_status: OperatingStatus;
}

export interface LoadBalancerView {
  id: string;
  name: string;
  description: string;
  network_id: string;
  project_id: string;
  vip: string;
  algorithm: LbAlgorithm;
  protocol: LbProtocol;
  provider: LbProvider;
  host_id: string;
  provisioning_status: ProvisioningStatus;
  operating_status: OperatingStatus;
  /** Why provisioning_status is ERROR, '' otherwise. */
  error_message: string;
  listeners: ListenerView[];
  members: MemberView[];
  health_check: HealthCheckView | null;
  labels: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export class CreateLoadBalancerRequest {
  @IsResourceName() name!: string;
  @IsUUID() network_id!: string;
  @IsOptional() @IsIdToken() project_id?: string;
  /** Inside the network's CIDR; reserved in the registry's IPAM. Default: its lowest free address. */
  @IsOptional() @IsIpAddress() vip?: string;
  @IsOptional() @IsIn(LB_ALGORITHMS) algorithm?: LbAlgorithm;
  /** The default protocol of its listeners. */
  @IsOptional() @IsIn(LB_PROTOCOLS) protocol?: LbProtocol;
  @IsOptional() @IsSafeText(255) description?: string;
  /** Default: a healthy host with the provider's capability, chosen by the lb service. */
  @IsOptional() @IsIdToken() host_id?: string;
  @IsOptional() @IsIn(LB_PROVIDERS) provider?: LbProvider;
  @IsOptional() @IsLabels() labels?: Record<string, string>;
}

export class GetLoadBalancerRequest {
  @IsUUID() id!: string;
}

export class ListLoadBalancersRequest extends PageRequest {
  @IsOptional() @IsIdToken() project_id?: string;
  @IsOptional() @IsUUID() network_id?: string;
  @IsOptional() @IsResourceName() name?: string;
  @IsOptional() @IsIdToken() host_id?: string;
  @IsOptional() @IsIn(LB_PROVIDERS) provider?: LbProvider;
}

export interface ListLoadBalancersResponse {
  load_balancers: LoadBalancerView[];
  next_page_token: string;
}

export class UpdateLoadBalancerRequest {
  @IsUUID() id!: string;
  @IsOptional() @IsResourceName() name?: string;
  @IsOptional() @IsSafeText(255) description?: string;
  @IsOptional() @IsIn(LB_ALGORITHMS) algorithm?: LbAlgorithm;
}

export class DeleteLoadBalancerRequest {
  @IsUUID() id!: string;
}

export class AddListenerRequest {
  @IsUUID() load_balancer_id!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
  /** Default: the load balancer's protocol. */
  @IsOptional() @IsIn(LB_PROTOCOLS) protocol?: LbProtocol;
  /** Default: <protocol>-<port>, e.g. tcp-80. */
  @IsOptional() @IsResourceName() name?: string;
}

export class RemoveListenerRequest {
  @IsUUID() load_balancer_id!: string;
  @IsUUID() listener_id!: string;
}

export class AddMemberRequest {
  @IsUUID() load_balancer_id!: string;
  @IsIpAddress() address!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
  @IsOptional() @IsInt() @Min(1) @Max(MAX_MEMBER_WEIGHT) weight?: number;
  @IsOptional() @IsBoolean() admin_state_up?: boolean;
  /** OVN only: the backend's logical switch port, which OVN's health checks need (ip_port_mappings). */
  @IsOptional()
  @Matches(OVN_NAME, { message: 'must be an OVN port name: 1-63 of A-Z a-z 0-9 _ . @ : -' })
  logical_port?: string;
}

export class RemoveMemberRequest {
  @IsUUID() load_balancer_id!: string;
  @IsUUID() member_id!: string;
}

export class UpdateMemberRequest {
  @IsUUID() load_balancer_id!: string;
  @IsUUID() member_id!: string;
  @IsOptional() @IsInt() @Min(1) @Max(MAX_MEMBER_WEIGHT) weight?: number;
  @IsOptional() @IsBoolean() admin_state_up?: boolean;
}

export class HealthCheckSpec {
  @IsIn(LB_PROTOCOLS) protocol!: LbProtocol;
  /** Default: each member's own port. */
  @IsOptional() @IsInt() @Min(1) @Max(65535) port?: number;
  @IsInt() @Min(1) @Max(3600) interval_sec!: number;
  @IsInt() @Min(1) @Max(3600) timeout_sec!: number;
  @IsInt() @Min(1) @Max(10) unhealthy_threshold!: number;
  @IsInt() @Min(1) @Max(10) healthy_threshold!: number;
}

/** Without health_check: the monitor is removed and every enabled member takes traffic. */
export class SetHealthCheckRequest {
  @IsUUID() load_balancer_id!: string;
  @IsOptional()
  @IsObject({ message: 'must be an object: {protocol, port, interval_sec, …}' })
  @ValidateNested()
  @Type(() => HealthCheckSpec)
  health_check?: HealthCheckSpec;
}

export class GetLoadBalancerStatsRequest {
  @IsUUID() id!: string;
}

export interface MemberStatsView {
  member_id: string;
  active_connections: number;
  total_connections: number;
  operating_status: OperatingStatus;
}

export interface LoadBalancerStatsView {
  load_balancer_id: string;
  active_connections: number;
  total_connections: number;
  bytes_in: number;
  bytes_out: number;
  members: MemberStatsView[];
  /** When the host last reported these counters ('' before its first report). */
  observed_at: string;
}

const rpc = <Req extends object, Res>(method: string, request: new () => Req) =>
  defineRpc<Req, Res>('lb', method, request, { protoRequest: `${method}Request` });

/** Seed 000 part 1: LoadBalancerService. */
export const LbRpc = {
  CreateLoadBalancer: rpc<CreateLoadBalancerRequest, LoadBalancerView>(
    'CreateLoadBalancer',
    CreateLoadBalancerRequest,
  ),
  GetLoadBalancer: rpc<GetLoadBalancerRequest, LoadBalancerView>(
    'GetLoadBalancer',
    GetLoadBalancerRequest,
  ),
  ListLoadBalancers: rpc<ListLoadBalancersRequest, ListLoadBalancersResponse>(
    'ListLoadBalancers',
    ListLoadBalancersRequest,
  ),
  UpdateLoadBalancer: rpc<UpdateLoadBalancerRequest, LoadBalancerView>(
    'UpdateLoadBalancer',
    UpdateLoadBalancerRequest,
  ),
  DeleteLoadBalancer: rpc<DeleteLoadBalancerRequest, Record<string, never>>(
    'DeleteLoadBalancer',
    DeleteLoadBalancerRequest,
  ),
  AddListener: rpc<AddListenerRequest, ListenerView>('AddListener', AddListenerRequest),
  RemoveListener: rpc<RemoveListenerRequest, Record<string, never>>(
    'RemoveListener',
    RemoveListenerRequest,
  ),
  AddMember: rpc<AddMemberRequest, MemberView>('AddMember', AddMemberRequest),
  RemoveMember: rpc<RemoveMemberRequest, Record<string, never>>(
    'RemoveMember',
    RemoveMemberRequest,
  ),
  UpdateMember: rpc<UpdateMemberRequest, MemberView>('UpdateMember', UpdateMemberRequest),
  SetHealthCheck: rpc<SetHealthCheckRequest, LoadBalancerView>(
    'SetHealthCheck',
    SetHealthCheckRequest,
  ),
  GetLoadBalancerStats: rpc<GetLoadBalancerStatsRequest, LoadBalancerStatsView>(
    'GetLoadBalancerStats',
    GetLoadBalancerStatsRequest,
  ),
};
