import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  QnetError,
  type BgpAdvertisementView,
  type BgpPeerView,
  type BgpSpeakerDetailedStatus,
  type BgpSpeakerView,
  type ListAdvertisementsResponse,
  type ListBgpPeersResponse,
  type ListBgpSpeakersResponse,
} from '@qnet/contracts';
import { RpcForwarder } from '../connect/rpc-forwarder.js';
import { toRpcFields, withRestFieldNames, type FieldNames } from './field-names.js';

const SERVICE = 'BGPService';

/** Seed 001's REST documents name some fields differently from its RPC messages. */
const SPEAKER_FIELDS: FieldNames = {
  'spec.local_asn': 'local_asn',
  'spec.router_id': 'router_id',
  'spec.node_id': 'node_id',
};
const PEER_FIELDS: FieldNames = {
  peer_ip: 'peer_address',
  remote_asn: 'peer_asn',
  md5_password: 'password',
};
const ADVERTISEMENT_FIELDS: FieldNames = { cidr: 'prefix', local_preference: 'local_pref' };

/** `{name, project_id, spec: {local_asn, router_id, node_id}}` as one flat CreateSpeaker message. */
function flattenSpec(body: Record<string, unknown>): Record<string, unknown> {
  const { spec, ...rest } = body;
  if (spec === undefined) return rest;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw QnetError.invalid('spec', 'must be an object: {local_asn, router_id, node_id}');
  return {
    ...rest,
    ...Object.fromEntries(Object.entries(spec).map(([k, v]) => [`spec.${k}`, v])),
  };
}

/** REST face of BGP ToR integration (seed 001); the Connect paths of both seeds work as well. */
@ApiTags('bgp')
@Controller('api/v1/bgp-speakers')
export class BgpRestController {
  constructor(private readonly rpc: RpcForwarder) {}

  @Get()
  @ApiOperation({ summary: 'List speakers (filters: project_id, node_id; page_size, page_token)' })
  list(@Query() query: Record<string, unknown>): Promise<ListBgpSpeakersResponse> {
    return this.rpc.call(
      SERVICE,
      'ListSpeakers',
      this.rpc.queryToMessage('ListBGPSpeakersRequest', query),
    );
  }

  @Post()
  @ApiOperation({ summary: 'Create the BGP speaker of a node: {name, project_id, spec}' })
  create(@Body() body: Record<string, unknown>): Promise<BgpSpeakerView> {
    return withRestFieldNames(SPEAKER_FIELDS, () =>
      this.rpc.call(SERVICE, 'CreateSpeaker', toRpcFields(flattenSpec(body), SPEAKER_FIELDS)),
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a speaker' })
  get(@Param('id') id: string): Promise<BgpSpeakerView> {
    return this.rpc.call(SERVICE, 'GetSpeaker', { id });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: "Delete a speaker with its peers and advertisements (FRR's BGP goes)" })
  async delete(@Param('id') id: string): Promise<void> {
    await this.rpc.call(SERVICE, 'DeleteSpeaker', { id });
  }

  @Get(':id/status')
  @ApiOperation({ summary: "Seed 001's status document: phase, peers' sessions, advertisements" })
  status(@Param('id') id: string): Promise<BgpSpeakerDetailedStatus> {
    return this.rpc.call(SERVICE, 'GetSpeakerStatus', { speaker_id: id });
  }

  @Get(':id/peers')
  @ApiOperation({ summary: "List a speaker's peers with session status (page_size, page_token)" })
  peers(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<ListBgpPeersResponse> {
    return this.rpc.call(SERVICE, 'ListPeers', {
      ...this.rpc.queryToMessage('ListBGPPeersRequest', query),
      speaker_id: id,
    });
  }

  @Post(':id/peers')
  @ApiOperation({
    summary:
      'Add a peer: {name, peer_ip, remote_asn, md5_password, hold_time, keepalive_interval, bfd, max_prefixes}',
  })
  addPeer(@Param('id') id: string, @Body() body: Record<string, unknown>): Promise<BgpPeerView> {
    return withRestFieldNames(PEER_FIELDS, () =>
      this.rpc.call(SERVICE, 'AddPeer', { ...toRpcFields(body, PEER_FIELDS), speaker_id: id }),
    );
  }

  @Delete(':id/peers/:peer_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a peer (its session is closed)' })
  async removePeer(@Param('id') id: string, @Param('peer_id') peerId: string): Promise<void> {
    await this.rpc.call(SERVICE, 'RemovePeer', { speaker_id: id, peer_id: peerId });
  }

  @Get(':id/advertisements')
  @ApiOperation({ summary: "List a speaker's advertisements (page_size, page_token)" })
  advertisements(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<ListAdvertisementsResponse> {
    return this.rpc.call(SERVICE, 'ListAdvertisements', {
      ...this.rpc.queryToMessage('ListAdvertisementsRequest', query),
      speaker_id: id,
    });
  }

  @Post(':id/advertisements')
  @ApiOperation({
    summary: 'Advertise a prefix: {cidr, next_hop, local_preference, communities}',
  })
  advertise(
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
  ): Promise<BgpAdvertisementView> {
    return withRestFieldNames(ADVERTISEMENT_FIELDS, () =>
      this.rpc.call(SERVICE, 'AdvertiseNetwork', {
        ...toRpcFields(body, ADVERTISEMENT_FIELDS),
        speaker_id: id,
      }),
    );
  }

  @Delete(':id/advertisements/:advertisement_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Withdraw an advertisement (gone from the peers within seconds)' })
  async withdraw(
    @Param('id') id: string,
    @Param('advertisement_id') advertisementId: string,
  ): Promise<void> {
    await this.rpc.call(SERVICE, 'WithdrawNetwork', {
      speaker_id: id,
      advertisement_id: advertisementId,
    });
  }
}
