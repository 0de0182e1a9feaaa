import { RegistryNetworkRpc, RegistryNicRpc } from '@qnet/contracts';
import { restController } from './rest-routes.js';

/** API 003's `/v1/networks` API: the same RPCs as the Connect paths. */
export const NetworksRestController = restController({
  name: 'NetworksRestController',
  tag: 'networks',
  base: 'v1/networks',
  routes: {
    list: {
      verb: 'GET',
      path: '',
      from: 'query',
      listOf: 'networks',
      rpc: RegistryNetworkRpc.ListNetworks,
      summary:
        'List networks as a JSON array (filters: type, host_id, bridge_name, project_id, name; page_size, page_token; next page token in X-Next-Page-Token)',
    },
    get: {
      verb: 'GET',
      path: ':id',
      params: { id: 'id' },
      rpc: RegistryNetworkRpc.GetNetwork,
      summary: 'Get a network',
    },
    create: {
      verb: 'POST',
      path: '',
      rpc: RegistryNetworkRpc.CreateNetwork,
      summary: 'Create a network (API 003 fields, network_type bridge | vlan | overlay)',
    },
    update: {
      verb: 'PATCH',
      path: ':id',
      params: { id: 'id' },
      rpc: RegistryNetworkRpc.UpdateNetwork,
      summary: 'Update name, description, cidr, gateway, mtu, labels, host_ids',
    },
    delete: {
      verb: 'DELETE',
      path: ':id',
      params: { id: 'id' },
      status: 204,
      rpc: RegistryNetworkRpc.DeleteNetwork,
      summary: 'Delete a network (409 while NICs are attached)',
    },
    countVms: {
      verb: 'GET',
      path: ':id/vms/count',
      params: { id: 'id' },
      rpc: RegistryNetworkRpc.CountNetworkVms,
      summary: 'Number of VMs with a NIC on the network',
    },
    nics: {
      verb: 'GET',
      path: ':id/nics',
      from: 'query',
      params: { id: 'network_id' },
      listOf: 'nics',
      rpc: RegistryNicRpc.ListNics,
      summary: 'NICs attached to the network (JSON array; X-Next-Page-Token)',
    },
  },
});

/** VM / container NICs: attach (IPAM, MAC, auto-registration by bridge_name), detach, list. */
export const NicsRestController = restController({
  name: 'NicsRestController',
  tag: 'nics',
  base: 'v1/nics',
  routes: {
    list: {
      verb: 'GET',
      path: '',
      from: 'query',
      listOf: 'nics',
      rpc: RegistryNicRpc.ListNics,
      summary: 'List NICs as a JSON array (filters: network_id, vm_id, host_id)',
    },
    get: {
      verb: 'GET',
      path: ':id',
      params: { id: 'id' },
      rpc: RegistryNicRpc.GetNic,
      summary: 'Get a NIC',
    },
    attach: {
      verb: 'POST',
      path: '',
      rpc: RegistryNicRpc.AttachNic,
      summary: 'Attach a NIC to a network (or to a bridge on a host: auto-registration)',
    },
    update: {
      verb: 'PATCH',
      path: ':id',
      params: { id: 'id' },
      rpc: RegistryNicRpc.UpdateNic,
      summary:
        'Rename a NIC in its network DNS (hostname; "" gives back vm_id), or change port_security / allowed_address_pairs',
    },
    detach: {
      verb: 'DELETE',
      path: ':id',
      params: { id: 'id' },
      status: 204,
      rpc: RegistryNicRpc.DetachNic,
      summary: 'Detach a NIC; its address is freed',
    },
  },
});
