import { BgpRpc, QnetError } from '@qnet/contracts';
import type { FieldNames } from './field-names.js';
import { restController } from './rest-routes.js';

/** API 001's REST documents name some fields differently from its RPC messages. */
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

const SPEAKER = { id: 'speaker_id' };

/** REST face of BGP ToR integration (API 001); the Connect paths of both APIs work as well. */
export const BgpRestController = restController({
  name: 'BgpRestController',
  tag: 'bgp',
  base: 'api/v1/bgp-speakers',
  routes: {
    list: {
      verb: 'GET',
      path: '',
      from: 'query',
      rpc: BgpRpc.ListSpeakers,
      summary: 'List speakers (filters: project_id, node_id; page_size, page_token)',
    },
    create: {
      verb: 'POST',
      path: '',
      reshape: flattenSpec,
      fieldNames: SPEAKER_FIELDS,
      rpc: BgpRpc.CreateSpeaker,
      summary: 'Create the BGP speaker of a node: {name, project_id, spec}',
    },
    get: {
      verb: 'GET',
      path: ':id',
      params: { id: 'id' },
      rpc: BgpRpc.GetSpeaker,
      summary: 'Get a speaker',
    },
    delete: {
      verb: 'DELETE',
      path: ':id',
      params: { id: 'id' },
      status: 204,
      rpc: BgpRpc.DeleteSpeaker,
      summary: "Delete a speaker with its peers and advertisements (FRR's BGP goes)",
    },
    status: {
      verb: 'GET',
      path: ':id/status',
      params: SPEAKER,
      rpc: BgpRpc.GetSpeakerStatus,
      summary: "API 001's status document: phase, peers' sessions, advertisements",
    },
    peers: {
      verb: 'GET',
      path: ':id/peers',
      from: 'query',
      params: SPEAKER,
      rpc: BgpRpc.ListPeers,
      summary: "List a speaker's peers with session status (page_size, page_token)",
    },
    addPeer: {
      verb: 'POST',
      path: ':id/peers',
      params: SPEAKER,
      fieldNames: PEER_FIELDS,
      rpc: BgpRpc.AddPeer,
      summary:
        'Add a peer: {name, peer_ip, remote_asn, md5_password, hold_time, keepalive_interval, bfd, max_prefixes}',
    },
    removePeer: {
      verb: 'DELETE',
      path: ':id/peers/:peer_id',
      params: { ...SPEAKER, peer_id: 'peer_id' },
      status: 204,
      rpc: BgpRpc.RemovePeer,
      summary: 'Remove a peer (its session is closed)',
    },
    advertisements: {
      verb: 'GET',
      path: ':id/advertisements',
      from: 'query',
      params: SPEAKER,
      rpc: BgpRpc.ListAdvertisements,
      summary: "List a speaker's advertisements (page_size, page_token)",
    },
    advertise: {
      verb: 'POST',
      path: ':id/advertisements',
      params: SPEAKER,
      fieldNames: ADVERTISEMENT_FIELDS,
      rpc: BgpRpc.AdvertiseNetwork,
      summary: 'Advertise a prefix: {cidr, next_hop, local_preference, communities}',
    },
    withdraw: {
      verb: 'DELETE',
      path: ':id/advertisements/:advertisement_id',
      params: { ...SPEAKER, advertisement_id: 'advertisement_id' },
      status: 204,
      rpc: BgpRpc.WithdrawNetwork,
      summary: 'Withdraw an advertisement (gone from the peers within seconds)',
    },
  },
});
