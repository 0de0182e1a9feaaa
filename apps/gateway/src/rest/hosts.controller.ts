import { RegistryHostRpc } from '@qnet/contracts';
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
  },
});
