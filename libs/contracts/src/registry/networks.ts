import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { defineRpc } from '../rpc.js';
import { PageRequest } from '../pagination.js';
import {
  IsCanonicalCidr,
  IsIdToken,
  IsInterfaceName,
  IsIpAddress,
  IsLabels,
  IsSafeText,
} from '../validation.js';

export const NETWORK_TYPES = ['bridge', 'vlan', 'overlay'] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

/**
 * isolated: L2 only. nat: the gateway lives on the network's bridge, forwarding is on and traffic
 * leaving the network is masqueraded. routed: the gateway lives on the bridge, no NAT. bridged: the
 * bridge enslaves a physical uplink, and guests are on that LAN.
 */
export const NETWORK_MODES = ['isolated', 'nat', 'routed', 'bridged'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export const PROVISIONING_STATUSES = [
  'PENDING_CREATE',
  'ACTIVE',
  'PENDING_UPDATE',
  'PENDING_DELETE',
  'ERROR',
] as const;
export type ProvisioningStatus = (typeof PROVISIONING_STATUSES)[number];
export const OPERATING_STATUSES = ['ONLINE', 'DEGRADED', 'OFFLINE', 'NO_MONITOR'] as const;
export type OperatingStatus = (typeof OPERATING_STATUSES)[number];

/** A classless static route the network's DHCP hands its guests (option 121). */
export class StaticRoute {
  @IsCanonicalCidr() destination!: string;
  /** Inside the network's CIDR. */
  @IsIpAddress() nexthop!: string;
}

export const DEFAULT_PROJECT = 'default';
export const OVERLAY_MTU = 1450;
export const BRIDGE_MTU = 1500;

/** A network as the seed's `/v1/networks` shows it, plus overlay, IPAM and status fields. */
export interface NetworkView {
  id: string;
  name: string;
  description: string;
  type: NetworkType;
  mode: NetworkMode;
  /** The interface a bridged network's bridge enslaves; null in other modes. */
  uplink_interface: string | null;
  /**
   * DHCP and DNS for the guests, served on each host by the network's gateway (nat and routed
   * modes): static leases from IPAM, names of every NIC under dns_domain.
   */
  dhcp: boolean;
  /** `<name as a DNS label>.<QNET_DNS_DOMAIN>`; null when the network serves no DNS. */
  dns_domain: string | null;
  /** Upstream resolvers the network's DNS forwards other names to. */
  dns_servers: string[];
  static_routes: StaticRoute[];
  vlan_id: number | null;
  vni: number | null;
  bridge_name: string;
  host_id: string | null;
  /** Hosts the network is realized on: its host, overlay members and hosts with NICs on it. */
  host_ids: string[];
  /** VMs with a NIC on it (seed 003's Networks page "VMs" column). */
  vm_count: number;
  cidr: string | null;
  gateway: string | null;
  reserved_ranges: string[];
  mtu: number;
  project_id: string;
  labels: Record<string, string>;
  /** ACTIVE when every host applied it, PENDING_UPDATE while one has not yet, ERROR when one failed. */
  provisioning_status: ProvisioningStatus;
  /** ONLINE when every host is healthy, DEGRADED when some are, OFFLINE when none; NO_MONITOR without hosts. */
  operating_status: OperatingStatus;
  created_at: string;
  updated_at: string;
}

export class CreateNetworkRequest {
  @IsSafeText(255) @MinLength(1) name!: string;
  @IsOptional() @IsSafeText(1024) description?: string;
  @IsOptional() @IsIn(NETWORK_TYPES) network_type?: NetworkType;
  /** Default isolated; nat and routed need a cidr and a gateway, bridged an uplink_interface. */
  @IsOptional() @IsIn(NETWORK_MODES) mode?: NetworkMode;
  @IsOptional() @IsInterfaceName() uplink_interface?: string;
  /** Default true: served where the gateway lives on the bridge (nat and routed modes). */
  @IsOptional() @IsBoolean() dhcp?: boolean;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(4)
  @IsIpAddress({ each: true })
  dns_servers?: string[];
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => StaticRoute)
  static_routes?: StaticRoute[];
  @IsOptional() @IsInt() @Min(1) @Max(4094) vlan_id?: number;
  @IsOptional() @IsInt() @Min(1) @Max(16_777_215) vni?: number;
  @IsOptional() @IsInterfaceName() bridge_name?: string;
  @IsOptional() @IsIdToken() host_id?: string;
  @IsOptional() @IsArray() @ArrayMaxSize(1000) @IsIdToken({ each: true }) host_ids?: string[];
  @IsOptional() @IsCanonicalCidr() cidr?: string;
  @IsOptional() @IsIpAddress() gateway?: string;
  @IsOptional() @IsInt() @Min(68) @Max(65535) mtu?: number;
  @IsOptional() @IsIdToken() project_id?: string;
  @IsOptional() @IsLabels() labels?: Record<string, string>;
  /** Addresses IPAM never hands out: "10.0.0.10", "10.0.0.10-10.0.0.20" or a CIDR inside cidr. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  reserved_ranges?: string[];
}

export class GetNetworkRequest {
  @IsUUID() id!: string;
}

export class ListNetworksRequest extends PageRequest {
  @IsOptional() @IsIn(NETWORK_TYPES) type?: NetworkType;
  @IsOptional() @IsIdToken() host_id?: string;
  @IsOptional() @IsInterfaceName() bridge_name?: string;
  @IsOptional() @IsIdToken() project_id?: string;
  /** Case-insensitive substring of the name. */
  @IsOptional() @IsSafeText(255) name?: string;
}

export interface ListNetworksResponse {
  networks: NetworkView[];
  next_page_token: string;
}

export class UpdateNetworkRequest {
  @IsUUID() id!: string;
  @IsOptional() @IsSafeText(255) @MinLength(1) name?: string;
  @IsOptional() @IsSafeText(1024) description?: string;
  @IsOptional() @IsIn(NETWORK_MODES) mode?: NetworkMode;
  /** Default true: served where the gateway lives on the bridge (nat and routed modes). */
  @IsOptional() @IsBoolean() dhcp?: boolean;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(4)
  @IsIpAddress({ each: true })
  dns_servers?: string[];
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => StaticRoute)
  static_routes?: StaticRoute[];
  @IsOptional() @IsCanonicalCidr() cidr?: string;
  @IsOptional() @IsIpAddress() gateway?: string;
  @IsOptional() @IsInt() @Min(68) @Max(65535) mtu?: number;
  @IsOptional() @IsLabels() labels?: Record<string, string>;
  /** Overlay members (replaces the list); a host that still has NICs on the network cannot leave. */
  @IsOptional() @IsArray() @ArrayMaxSize(1000) @IsIdToken({ each: true }) host_ids?: string[];
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  reserved_ranges?: string[];
}

export class DeleteNetworkRequest {
  @IsUUID() id!: string;
}

export class CountNetworkVmsRequest {
  @IsUUID() id!: string;
}

export interface CountNetworkVmsResponse {
  count: number;
}

export const RegistryNetworkRpc = {
  CreateNetwork: defineRpc<CreateNetworkRequest, NetworkView>(
    'registry',
    'CreateNetwork',
    CreateNetworkRequest,
    { protoRequest: 'CreateNetworkRequest' },
  ),
  GetNetwork: defineRpc<GetNetworkRequest, NetworkView>(
    'registry',
    'GetNetwork',
    GetNetworkRequest,
    {
      protoRequest: 'GetNetworkRequest',
    },
  ),
  ListNetworks: defineRpc<ListNetworksRequest, ListNetworksResponse>(
    'registry',
    'ListNetworks',
    ListNetworksRequest,
    { protoRequest: 'ListNetworksRequest' },
  ),
  UpdateNetwork: defineRpc<UpdateNetworkRequest, NetworkView>(
    'registry',
    'UpdateNetwork',
    UpdateNetworkRequest,
    { protoRequest: 'UpdateNetworkRequest' },
  ),
  DeleteNetwork: defineRpc<DeleteNetworkRequest, Record<string, never>>(
    'registry',
    'DeleteNetwork',
    DeleteNetworkRequest,
    { protoRequest: 'DeleteNetworkRequest' },
  ),
  CountNetworkVms: defineRpc<CountNetworkVmsRequest, CountNetworkVmsResponse>(
    'registry',
    'CountNetworkVms',
    CountNetworkVmsRequest,
    { protoRequest: 'CountNetworkVmsRequest' },
  ),
};

/**
 * Holds one address of a network for another service (an LB's VIP): IPAM never gives it to a
 * NIC. Without address, the lowest free one. Idempotent for the same owner.
 */
export class ReserveAddressRequest {
  @IsUUID() network_id!: string;
  @IsOptional() @IsIpAddress() address?: string;
  @IsIdToken() owner_id!: string;
  /** The caller's request field, named in errors (default address). */
  @IsOptional() @IsString() @MaxLength(64) field?: string;
}

export interface ReservedAddress {
  network_id: string;
  address: string;
  cidr: string;
}

/** Frees a reservation; a no-op when the owner holds none there. */
export class ReleaseAddressRequest {
  @IsUUID() network_id!: string;
  @IsIpAddress() address!: string;
  @IsIdToken() owner_id!: string;
}

/** Bus-internal: how other services hold addresses in the registry's IPAM. */
export const RegistryAddressRpc = {
  ReserveAddress: defineRpc<ReserveAddressRequest, ReservedAddress>(
    'registry',
    'ReserveAddress',
    ReserveAddressRequest,
  ),
  ReleaseAddress: defineRpc<ReleaseAddressRequest, Record<string, never>>(
    'registry',
    'ReleaseAddress',
    ReleaseAddressRequest,
  ),
};
