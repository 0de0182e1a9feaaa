import { RegistryEnrollmentRpc, RegistryHostRpc } from '@qnet/contracts';
import { restController } from './rest-routes.js';

/** REST view of hosts: the same RPCs as the Connect paths. */
export const HostsRestController = restController({
  name: 'HostsRestController',
  tag: 'hosts',
  base: 'v1/hosts',
  routes: {
    list: {
      verb: 'GET',
      path: '',
      from: 'query',
      listOf: 'hosts',
      rpc: RegistryHostRpc.ListHosts,
      summary:
        'List hosts as a JSON array (filters: health, hostname; page_size, page_token; next page token in X-Next-Page-Token)',
    },
    get: {
      verb: 'GET',
      path: ':id',
      params: { id: 'host_id' },
      rpc: RegistryHostRpc.GetHost,
      summary: 'Get a host with its health and capabilities',
    },
    update: {
      verb: 'PATCH',
      path: ':id',
      params: { id: 'host_id' },
      rpc: RegistryHostRpc.UpdateHost,
      summary: 'Update the operator-owned fields of a host (description, labels)',
    },
    join: {
      verb: 'POST',
      path: 'join',
      rpc: RegistryEnrollmentRpc.JoinHost,
      status: 200,
      summary:
        "Enroll a host: a one-time join token, the host id and the agent's own NATS public key buy it a user JWT for its own subjects (no bearer token: the join token is the credential)",
    },
    revoke: {
      verb: 'POST',
      path: ':id/revoke',
      params: { id: 'host_id' },
      from: 'none',
      rpc: RegistryEnrollmentRpc.RevokeHost,
      status: 200,
      summary:
        "Revoke an enrolled host's NATS credentials: every NATS server closes its connections and refuses it from then on",
    },
  },
});

/** One-time join tokens for enrolling hosts (admin token only). */
export const JoinTokensRestController = restController({
  name: 'JoinTokensRestController',
  tag: 'hosts',
  base: 'v1/join-tokens',
  routes: {
    create: {
      verb: 'POST',
      path: '',
      rpc: RegistryEnrollmentRpc.CreateJoinToken,
      summary:
        'Create a one-time join token (optionally for one host_id; ttl_seconds 60–604800, default 3600); the token is shown only in this answer',
    },
    list: {
      verb: 'GET',
      path: '',
      from: 'query',
      listOf: 'join_tokens',
      rpc: RegistryEnrollmentRpc.ListJoinTokens,
      summary:
        'List join tokens (never the tokens themselves) with when and by which host each was used',
    },
    delete: {
      verb: 'DELETE',
      path: ':id',
      params: { id: 'id' },
      rpc: RegistryEnrollmentRpc.DeleteJoinToken,
      status: 204,
      summary: 'Delete a join token (an unused one can then no longer enroll)',
    },
  },
});
