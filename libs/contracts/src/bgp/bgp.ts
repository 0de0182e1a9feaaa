import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsIP,
  IsOptional,
  IsUUID,
  Max,
  Min,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { defineRpc } from '../rpc.js';
import { PageRequest } from '../pagination.js';
import {
  IsCanonicalCidr,
  IsIdToken,
  IsIpAddress,
  IsLabels,
  IsResourceName,
  IsSafeText,
} from '../validation.js';

export const MAX_ASN = 4294967295;
const MAX_U32 = 4294967295;

const WELL_KNOWN_COMMUNITIES = ['no-export', 'no-advertise', 'no-peer', 'blackhole'];

/** `asn:value` (16-bit parts), a large community `a:b:c` (32-bit parts) or a well-known name. */
export function isCommunity(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  if (WELL_KNOWN_COMMUNITIES.includes(v)) return true;
  const parts = v.split(':');
  if (parts.length !== 2 && parts.length !== 3) return false;
  const max = parts.length === 2 ? 65535 : MAX_U32;
  return parts.every((p) => /^\d{1,10}$/.test(p) && Number(p) <= max);
}

export const isLargeCommunity = (c: string) => c.split(':').length === 3;

export const IsCommunity = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isCommunity',
      validator: {
        validate: isCommunity,
        defaultMessage: () =>
          `must be asn:value (0-65535 each), a large community a:b:c (32-bit each) or one of ${WELL_KNOWN_COMMUNITIES.join(', ')}`,
      },
    },
    o,
  );

/** A TCP-MD5 key: 1-80 printable characters without spaces, quotes or backslashes. */
export const IsMd5Password = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isMd5Password',
      validator: {
        validate: (v) =>
          typeof v === 'string' && /^[A-Za-z0-9!#$%&()*+,./:;<=>?@[\]^_{|}~-]{1,80}$/.test(v),
        defaultMessage: () =>
          'must be 1-80 printable characters without spaces, quotes or backslashes',
      },
    },
    o,
  );

/** API 001: pending until the node's agent applied it, active, or error (with the reason). */
export type SpeakerPhase = 'pending' | 'active' | 'error';
export const PEER_STATES = [
  'IDLE',
  'CONNECT',
  'ACTIVE',
  'OPENSENT',
  'OPENCONFIRM',
  'ESTABLISHED',
] as const;
export type PeerState = (typeof PEER_STATES)[number];

export interface BgpSpeakerView {
  id: string;
  name: string;
  project_id: string;
  description: string;
  labels: Record<string, string>;
  node_id: string;
  local_asn: number;
  router_id: string;
  status: { phase: SpeakerPhase; established_peers: number; error_message: string };
  created_at: string;
  updated_at: string;
}

export interface BgpPeerStatusView {
  state: PeerState;
  prefixes_received: number;
  prefixes_sent: number;
  /** API 000's form, e.g. "2h35m"; '' when not established. */
  uptime: string;
  uptime_seconds: number;
  /** Why the session is not (or was last not) up, '' when nothing is known. */
  last_error: string;
}

export interface BgpPeerView {
  id: string;
  speaker_id: string;
  name: string;
  peer_address: string;
  peer_asn: number;
  hold_time: number;
  keepalive_interval: number;
  bfd: boolean;
  max_prefixes: number;
  /** The password itself is write-only. */
  has_password: boolean;
  status: BgpPeerStatusView;
  created_at: string;
}

export interface BgpAdvertisementView {
  id: string;
  speaker_id: string;
  prefix: string;
  next_hop: string;
  communities: string[];
  local_pref: number;
  /** In the node's BGP table, as its agent last reported. */
  active: boolean;
  created_at: string;
}

export class CreateBgpSpeakerRequest {
  @IsIdToken() node_id!: string;
  @IsInt() @Min(1) @Max(MAX_ASN) local_asn!: number;
  @IsIP(4) router_id!: string;
  @IsOptional() @IsIdToken() project_id?: string;
  /** Defaults to speaker-<node_id>. */
  @IsOptional() @IsResourceName() name?: string;
  @IsOptional() @IsSafeText(255) description?: string;
  @IsOptional() @IsLabels() labels?: Record<string, string>;
}

export class SpeakerIdRequest {
  @IsUUID() id!: string;
}

export class ListBgpSpeakersRequest extends PageRequest {
  @IsOptional() @IsIdToken() project_id?: string;
  @IsOptional() @IsIdToken() node_id?: string;
}

export interface ListBgpSpeakersResponse {
  speakers: BgpSpeakerView[];
  next_page_token: string;
}

export class AddBgpPeerRequest {
  @IsUUID() speaker_id!: string;
  @IsResourceName() name!: string;
  @IsIpAddress() peer_address!: string;
  @IsInt() @Min(1) @Max(MAX_ASN) peer_asn!: number;
  /** TCP-MD5: write-only, sealed at rest. */
  @IsOptional() @IsMd5Password() password?: string;
  /** 0 (no keepalives) or 3-65535 s; keepalive_interval at most a third of it. */
  @IsOptional() @IsInt() @Min(0) @Max(65535) hold_time?: number;
  @IsOptional() @IsInt() @Min(0) @Max(65535) keepalive_interval?: number;
  @IsOptional() @IsBoolean() bfd?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(MAX_U32) max_prefixes?: number;
  @IsOptional() @IsSafeText(80) description?: string;
}

export class PeerRef {
  @IsUUID() speaker_id!: string;
  @IsUUID() peer_id!: string;
}

export class ListBgpPeersRequest extends PageRequest {
  @IsUUID() speaker_id!: string;
}

export interface ListBgpPeersResponse {
  peers: BgpPeerView[];
  next_page_token: string;
}

export class AdvertiseNetworkRequest {
  @IsUUID() speaker_id!: string;
  @IsCanonicalCidr() prefix!: string;
  /** Defaults to the speaker's own address on each session (FRR's next-hop self for eBGP). */
  @IsOptional() @IsIpAddress() next_hop?: string;
  @IsOptional() @IsArray() @ArrayMaxSize(32) @IsCommunity({ each: true }) communities?: string[];
  @IsOptional() @IsInt() @Min(0) @Max(MAX_U32) local_pref?: number;
}

/** By advertisement_id, or by prefix. */
export class WithdrawNetworkRequest {
  @IsUUID() speaker_id!: string;
  @IsOptional() @IsUUID() advertisement_id?: string;
  @IsOptional() @IsCanonicalCidr() prefix?: string;
}

export class ListAdvertisementsRequest extends PageRequest {
  @IsUUID() speaker_id!: string;
}

export interface ListAdvertisementsResponse {
  advertisements: BgpAdvertisementView[];
  next_page_token: string;
}

export class GetBgpSpeakerStatusRequest {
  @IsUUID() speaker_id!: string;
}

/** API 001's status document. */
export interface BgpSpeakerDetailedStatus {
  speaker_id: string;
  status: { phase: string; active_peers: number; advertised_routes: number };
  peers: {
    id: string;
    peer_ip: string;
    remote_asn: number;
    state: PeerState;
    prefixes_received: number;
    prefixes_advertised: number;
    uptime_seconds: number;
  }[];
  advertisements: { id: string; cidr: string; next_hop: string; active: boolean }[];
}

const rpc = <Req extends object, Res>(
  method: string,
  request: new () => Req,
  protoRequest: string,
) => defineRpc<Req, Res>('bgp', method, request, { protoRequest });

/** API 001's RPCs, and API 000's names for the same operations. */
export const BgpRpc = {
  CreateSpeaker: rpc<CreateBgpSpeakerRequest, BgpSpeakerView>(
    'CreateSpeaker',
    CreateBgpSpeakerRequest,
    'CreateBGPSpeakerRequest',
  ),
  CreateBGPSpeaker: rpc<CreateBgpSpeakerRequest, BgpSpeakerView>(
    'CreateBGPSpeaker',
    CreateBgpSpeakerRequest,
    'CreateBGPSpeakerRequest',
  ),
  GetSpeaker: rpc<SpeakerIdRequest, BgpSpeakerView>(
    'GetSpeaker',
    SpeakerIdRequest,
    'GetBGPSpeakerRequest',
  ),
  ListSpeakers: rpc<ListBgpSpeakersRequest, ListBgpSpeakersResponse>(
    'ListSpeakers',
    ListBgpSpeakersRequest,
    'ListBGPSpeakersRequest',
  ),
  DeleteSpeaker: rpc<SpeakerIdRequest, object>(
    'DeleteSpeaker',
    SpeakerIdRequest,
    'DeleteBGPSpeakerRequest',
  ),
  AddPeer: rpc<AddBgpPeerRequest, BgpPeerView>('AddPeer', AddBgpPeerRequest, 'AddBGPPeerRequest'),
  AddBGPPeer: rpc<AddBgpPeerRequest, BgpPeerView>(
    'AddBGPPeer',
    AddBgpPeerRequest,
    'AddBGPPeerRequest',
  ),
  RemovePeer: rpc<PeerRef, object>('RemovePeer', PeerRef, 'RemoveBGPPeerRequest'),
  ListPeers: rpc<ListBgpPeersRequest, ListBgpPeersResponse>(
    'ListPeers',
    ListBgpPeersRequest,
    'ListBGPPeersRequest',
  ),
  ListBGPPeers: rpc<ListBgpPeersRequest, ListBgpPeersResponse>(
    'ListBGPPeers',
    ListBgpPeersRequest,
    'ListBGPPeersRequest',
  ),
  AdvertiseNetwork: rpc<AdvertiseNetworkRequest, BgpAdvertisementView>(
    'AdvertiseNetwork',
    AdvertiseNetworkRequest,
    'AdvertiseNetworkRequest',
  ),
  WithdrawNetwork: rpc<WithdrawNetworkRequest, object>(
    'WithdrawNetwork',
    WithdrawNetworkRequest,
    'WithdrawNetworkRequest',
  ),
  ListAdvertisements: rpc<ListAdvertisementsRequest, ListAdvertisementsResponse>(
    'ListAdvertisements',
    ListAdvertisementsRequest,
    'ListAdvertisementsRequest',
  ),
  GetSpeakerStatus: rpc<GetBgpSpeakerStatusRequest, BgpSpeakerDetailedStatus>(
    'GetSpeakerStatus',
    GetBgpSpeakerStatusRequest,
    'GetBGPSpeakerStatusRequest',
  ),
};
