import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsUUID,
  Max,
  Min,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { isIp } from '@qnet/netaddr';
import { defineRpc } from '../rpc.js';
import { PageRequest } from '../pagination.js';
import type { OperatingStatus, ProvisioningStatus } from '../registry/networks.js';
import {
  IsCanonicalCidr,
  IsIdToken,
  IsIpAddress,
  IsResourceName,
  IsWireguardKey,
} from '../validation.js';

export const WIREGUARD_PORT = 51820;
export const DEFAULT_CLIENT_POOL = '10.99.0.0/24';
/** A peer counts as connected while its latest handshake is younger than this (WireGuard rekeys every 2 min). */
export const CONNECTED_WITHIN_S = 180;

/** A client address as the seed writes it: "10.99.0.10/32" (a bare address is accepted too). */
export const IsPeerAddress = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isPeerAddress',
      validator: {
        validate: (v) => {
          if (typeof v !== 'string') return false;
          const [ip, len, extra] = v.split('/');
          if (extra !== undefined || !ip || !isIp(ip)) return false;
          return len === undefined || len === (ip.includes(':') ? '128' : '32');
        },
        defaultMessage: () => 'must be one address, e.g. 10.99.0.10/32 or 10.99.0.10',
      },
    },
    o,
  );

export interface VpnServiceView {
  id: string;
  name: string;
  network_id: string;
  project_id: string;
  router_id: string;
  external_ip: string;
  local_subnets: string[];
  listen_port: number;
  client_pool: string;
  /** The gateway's public key; its private key never leaves the service except to its agent. */
  public_key: string;
  host_id: string;
  /** The gateway's interface on its host. */
  interface_name: string;
  provisioning_status: ProvisioningStatus;
  operating_status: OperatingStatus;
  created_at: string;
}

export interface VpnConnectionView {
  id: string;
  vpn_service_id: string;
  name: string;
  peer_address: string;
  peer_public_key: string;
  /** Only in the reply that generated the key pair (AddConnection / RotateConnectionKey without a key). */
  private_key?: string;
  has_preshared_key: boolean;
  provisioning_status: ProvisioningStatus;
  created_at: string;
}

export class CreateVpnServiceRequest {
  @IsResourceName() name!: string;
  @IsUUID() network_id!: string;
  @IsOptional() @IsIdToken() project_id?: string;
  /** The seed's router reference, kept as given. */
  @IsOptional() @IsIdToken() router_id?: string;
  @IsIpAddress() external_ip!: string;
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @IsCanonicalCidr({ each: true })
  local_subnets!: string[];
  @IsOptional() @IsInt() @Min(1) @Max(65535) listen_port?: number;
  /** Client addresses are allocated from here (default 10.99.0.0/24); the gateway takes the first. */
  @IsOptional() @IsCanonicalCidr() client_pool?: string;
  @IsOptional() @IsIdToken() host_id?: string;
}

export class GetVpnServiceRequest {
  @IsUUID() id!: string;
}

export class DeleteVpnServiceRequest {
  @IsUUID() id!: string;
}

export class ListVpnServicesRequest extends PageRequest {
  @IsOptional() @IsIdToken() project_id?: string;
  @IsOptional() @IsUUID() network_id?: string;
}

export interface ListVpnServicesResponse {
  vpn_services: VpnServiceView[];
  next_page_token: string;
}

export class AddConnectionRequest {
  @IsUUID() vpn_service_id!: string;
  @IsResourceName() name!: string;
  /** Optional: allocated from the service's client pool when absent. */
  @IsOptional() @IsPeerAddress() peer_address?: string;
  /** Optional: when absent the key pair is generated and the private key returned once. */
  @IsOptional() @IsWireguardKey() peer_public_key?: string;
  @IsOptional() @IsWireguardKey() preshared_key?: string;
}

export class ListConnectionsRequest extends PageRequest {
  @IsUUID() vpn_service_id!: string;
}

export interface ListConnectionsResponse {
  connections: VpnConnectionView[];
  next_page_token: string;
}

export class ConnectionRef {
  @IsUUID() vpn_service_id!: string;
  @IsUUID() connection_id!: string;
}

export class RemoveConnectionRequest extends ConnectionRef {}

export class GetClientConfigRequest extends ConnectionRef {}

export interface ClientConfigView {
  connection_id: string;
  filename: string;
  /** The wg-quick INI client config (docs/compatibility.md, 000). */
  config: string;
  /** The same document as a QR code (SVG), for mobile clients. */
  qr_svg: string;
}

export class RotateConnectionKeyRequest extends ConnectionRef {
  /** The client's new public key; absent → a new pair is generated and its private key returned once. */
  @IsOptional() @IsWireguardKey() peer_public_key?: string;
}

export class RotateGatewayKeyRequest {
  @IsUUID() vpn_service_id!: string;
}

export class SetPresharedKeyRequest extends ConnectionRef {
  /** Absent → a new one is generated and returned once. */
  @IsOptional() @IsWireguardKey() preshared_key?: string;
}

export interface PresharedKeyView extends VpnConnectionView {
  /** Only when the service generated it. */
  preshared_key?: string;
}

export class GetVpnStatusRequest {
  @IsUUID() vpn_service_id!: string;
}

export interface ConnectionStatusView {
  connection_id: string;
  name: string;
  /** ISO time of the latest handshake, '' when there was none. */
  latest_handshake: string;
  rx_bytes: number;
  tx_bytes: number;
  connected: boolean;
  endpoint: string;
}

export interface VpnStatusView {
  vpn_service_id: string;
  operating_status: OperatingStatus;
  /** When the gateway's agent last reported its peers; '' before the first report. */
  observed_at: string;
  connections: ConnectionStatusView[];
}

export class ListAuditEventsRequest extends PageRequest {
  @IsUUID() vpn_service_id!: string;
}

export interface AuditEventView {
  id: string;
  vpn_service_id: string;
  connection_id: string;
  action: string;
  actor: string;
  detail: string;
  occurred_at: string;
  request_id: string;
}

export interface ListAuditEventsResponse {
  events: AuditEventView[];
  next_page_token: string;
}

const rpc = <Req extends object, Res>(
  method: string,
  request: new () => Req,
  protoRequest: string,
) => defineRpc<Req, Res>('vpn', method, request, { protoRequest });

export const VpnRpc = {
  CreateVpnService: rpc<CreateVpnServiceRequest, VpnServiceView>(
    'CreateVpnService',
    CreateVpnServiceRequest,
    'CreateVpnServiceRequest',
  ),
  GetVpnService: rpc<GetVpnServiceRequest, VpnServiceView>(
    'GetVpnService',
    GetVpnServiceRequest,
    'GetVpnServiceRequest',
  ),
  ListVpnServices: rpc<ListVpnServicesRequest, ListVpnServicesResponse>(
    'ListVpnServices',
    ListVpnServicesRequest,
    'ListVpnServicesRequest',
  ),
  DeleteVpnService: rpc<DeleteVpnServiceRequest, object>(
    'DeleteVpnService',
    DeleteVpnServiceRequest,
    'DeleteVpnServiceRequest',
  ),
  AddConnection: rpc<AddConnectionRequest, VpnConnectionView>(
    'AddConnection',
    AddConnectionRequest,
    'AddConnectionRequest',
  ),
  ListConnections: rpc<ListConnectionsRequest, ListConnectionsResponse>(
    'ListConnections',
    ListConnectionsRequest,
    'ListConnectionsRequest',
  ),
  RemoveConnection: rpc<RemoveConnectionRequest, object>(
    'RemoveConnection',
    RemoveConnectionRequest,
    'RemoveConnectionRequest',
  ),
  GetClientConfig: rpc<GetClientConfigRequest, ClientConfigView>(
    'GetClientConfig',
    GetClientConfigRequest,
    'GetClientConfigRequest',
  ),
  RotateConnectionKey: rpc<RotateConnectionKeyRequest, VpnConnectionView>(
    'RotateConnectionKey',
    RotateConnectionKeyRequest,
    'RotateConnectionKeyRequest',
  ),
  RotateGatewayKey: rpc<RotateGatewayKeyRequest, VpnServiceView>(
    'RotateGatewayKey',
    RotateGatewayKeyRequest,
    'RotateGatewayKeyRequest',
  ),
  SetPresharedKey: rpc<SetPresharedKeyRequest, PresharedKeyView>(
    'SetPresharedKey',
    SetPresharedKeyRequest,
    'SetPresharedKeyRequest',
  ),
  GetVpnStatus: rpc<GetVpnStatusRequest, VpnStatusView>(
    'GetVpnStatus',
    GetVpnStatusRequest,
    'GetVpnStatusRequest',
  ),
  ListAuditEvents: rpc<ListAuditEventsRequest, ListAuditEventsResponse>(
    'ListAuditEvents',
    ListAuditEventsRequest,
    'ListAuditEventsRequest',
  ),
};
