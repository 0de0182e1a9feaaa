import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { defineRpc } from '../rpc.js';
import { PageRequest } from '../pagination.js';
import {
  IsIdToken,
  IsIpv4AddressOrCidr,
  IsInterfaceName,
  IsIpAddress,
  IsMacAddress,
} from '../validation.js';
import type { ProvisioningStatus } from './networks.js';

export const NIC_KINDS = ['tap', 'veth'] as const;
export type NicKind = (typeof NIC_KINDS)[number];

/** Namespace names as ip-netns(8) stores them under /var/run/netns. */
export const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A DNS label as the network's DNS answers it: lower case, digits and inner hyphens. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const DNS_LABEL_OR_EMPTY = new RegExp(`^$|${DNS_LABEL.source}`);

/** Another MAC/address a guest port may send from (Neutron's allowed_address_pairs). */
export class AllowedAddressPair {
  /** An IPv4 address or CIDR, e.g. 10.0.0.50 or 10.0.0.64/28. */
  @IsIpv4AddressOrCidr() ip_address!: string;
  /** Default: the NIC's own MAC. */
  @IsOptional() @IsMacAddress() mac_address?: string;
}

/** A VM or container interface (API 003's vm_network_interface) with its IPAM address. */
export interface NicView {
  id: string;
  network_id: string;
  vm_id: string;
  iface_id: string;
  kind: NicKind;
  host_id: string;
  guest_mac: string;
  ip_address: string | null;
  host_dev_name: string;
  netns: string | null;
  /** Its name in the network's DNS: hostname, else vm_id when that is a DNS label. */
  hostname: string | null;
  /** Anti-spoofing on the NIC's port (default on): only its own MAC and address, no DHCP server. */
  port_security: boolean;
  allowed_address_pairs: { ip_address: string; mac_address: string }[];
  /** Frames its port dropped (port security), as its host last reported. */
  port_security_drops: number;
  /** ACTIVE once the host's agent applied it, PENDING_CREATE before, ERROR when that failed. */
  provisioning_status: ProvisioningStatus;
  /** Why it is ERROR (e.g. its container namespace does not exist on the host); null otherwise. */
  status_message: string | null;
  created_at: string;
}

export class AttachNicRequest {
  /** The network; or, with bridge_name, the host's network on that bridge (registered if none). */
  @IsOptional() @IsUUID() network_id?: string;
  @IsOptional() @IsInterfaceName() bridge_name?: string;
  @IsIdToken() host_id!: string;
  @IsIdToken() vm_id!: string;
  /** Name inside the guest (Firecracker iface_id; the veth peer's name). Default eth0. */
  @IsOptional() @IsInterfaceName() iface_id?: string;
  @IsOptional() @IsIn(NIC_KINDS) kind?: NicKind;
  @IsOptional() @IsMacAddress() guest_mac?: string;
  @IsOptional() @IsIpAddress() ip_address?: string;
  @IsOptional() @IsInterfaceName() host_dev_name?: string;
  /** veth only: the container's network namespace the peer moves into. */
  @IsOptional()
  @Matches(NETNS_NAME, { message: 'must be a namespace name of A-Z a-z 0-9 _ . -' })
  netns?: string;
  /** With bridge_name: the VLAN of the network to find or register. */
  @IsOptional() @IsInt() @Min(1) @Max(4094) vlan_id?: number;
  @IsOptional()
  @Matches(DNS_LABEL, { message: 'must be a DNS label: a-z 0-9 and inner -, at most 63' })
  hostname?: string;
  @IsOptional() @IsBoolean() port_security?: boolean;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => AllowedAddressPair)
  allowed_address_pairs?: AllowedAddressPair[];
}

/** Changes what a guest is called and may send; the NIC's network, host and address stay. */
export class UpdateNicRequest {
  @IsUUID() id!: string;
  /** Its DNS name; "" gives it back its vm_id. */
  @IsOptional()
  @Matches(DNS_LABEL_OR_EMPTY, { message: 'must be a DNS label: a-z 0-9 and inner -, at most 63' })
  hostname?: string;
  @IsOptional() @IsBoolean() port_security?: boolean;
  /** Replaces the list. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => AllowedAddressPair)
  allowed_address_pairs?: AllowedAddressPair[];
}

export class DetachNicRequest {
  @IsUUID() id!: string;
}

export class GetNicRequest {
  @IsUUID() id!: string;
}

export class ListNicsRequest extends PageRequest {
  @IsOptional() @IsUUID() network_id?: string;
  @IsOptional() @IsIdToken() vm_id?: string;
  @IsOptional() @IsIdToken() host_id?: string;
}

export interface ListNicsResponse {
  nics: NicView[];
  next_page_token: string;
}

export const RegistryNicRpc = {
  AttachNic: defineRpc<AttachNicRequest, NicView>('registry', 'AttachNic', AttachNicRequest, {
    protoRequest: 'AttachNicRequest',
  }),
  UpdateNic: defineRpc<UpdateNicRequest, NicView>('registry', 'UpdateNic', UpdateNicRequest, {
    protoRequest: 'UpdateNicRequest',
  }),
  DetachNic: defineRpc<DetachNicRequest, Record<string, never>>(
    'registry',
    'DetachNic',
    DetachNicRequest,
    { protoRequest: 'DetachNicRequest' },
  ),
  GetNic: defineRpc<GetNicRequest, NicView>('registry', 'GetNic', GetNicRequest, {
    protoRequest: 'GetNicRequest',
  }),
  ListNics: defineRpc<ListNicsRequest, ListNicsResponse>('registry', 'ListNics', ListNicsRequest, {
    protoRequest: 'ListNicsRequest',
  }),
};
