import { LbRpc } from '@qnet/contracts';
import { restController } from './rest-routes.js';

const LB = { id: 'load_balancer_id' };

/** REST face of L4 load balancing (API 000, docs/compatibility.md); the Connect paths work as well. */
export const LbRestController = restController({
  name: 'LbRestController',
  tag: 'lb',
  base: 'api/v1/load-balancers',
  routes: {
    list: {
      verb: 'GET',
      path: '',
      from: 'query',
      rpc: LbRpc.ListLoadBalancers,
      summary:
        'List load balancers (filters: project_id, network_id, name, host_id, provider; page_size, page_token)',
    },
    create: {
      verb: 'POST',
      path: '',
      rpc: LbRpc.CreateLoadBalancer,
      summary: 'Create a load balancer: VIP reserved in the network, placed on a host',
    },
    get: {
      verb: 'GET',
      path: ':id',
      params: { id: 'id' },
      rpc: LbRpc.GetLoadBalancer,
      summary: 'Get a load balancer with its listeners, members and health check',
    },
    update: {
      verb: 'PATCH',
      path: ':id',
      params: { id: 'id' },
      rpc: LbRpc.UpdateLoadBalancer,
      summary: 'Update name, description or algorithm',
    },
    delete: {
      verb: 'DELETE',
      path: ':id',
      params: { id: 'id' },
      status: 204,
      rpc: LbRpc.DeleteLoadBalancer,
      summary: 'Delete a load balancer; its VIP goes back to the network',
    },
    stats: {
      verb: 'GET',
      path: ':id/stats',
      params: { id: 'id' },
      rpc: LbRpc.GetLoadBalancerStats,
      summary: 'Connections and bytes, per member, as the host last reported them',
    },
    addListener: {
      verb: 'POST',
      path: ':id/listeners',
      params: LB,
      rpc: LbRpc.AddListener,
      summary: 'Add a listener (a frontend port of the VIP)',
    },
    removeListener: {
      verb: 'DELETE',
      path: ':id/listeners/:listener_id',
      params: { ...LB, listener_id: 'listener_id' },
      status: 204,
      rpc: LbRpc.RemoveListener,
      summary: 'Remove a listener',
    },
    addMember: {
      verb: 'POST',
      path: ':id/members',
      params: LB,
      rpc: LbRpc.AddMember,
      summary: 'Add a member (a backend address and port)',
    },
    updateMember: {
      verb: 'PATCH',
      path: ':id/members/:member_id',
      params: { ...LB, member_id: 'member_id' },
      rpc: LbRpc.UpdateMember,
      summary: "Change a member's weight or admin_state_up",
    },
    removeMember: {
      verb: 'DELETE',
      path: ':id/members/:member_id',
      params: { ...LB, member_id: 'member_id' },
      status: 204,
      rpc: LbRpc.RemoveMember,
      summary: 'Remove a member: no new connections reach it',
    },
    setHealthCheck: {
      verb: 'PUT',
      path: ':id/health-check',
      params: LB,
      // The seed's document is the health check itself; `{health_check: {...}}` works as well.
      reshape: (body) => ({ health_check: body.health_check ?? body }),
      rpc: LbRpc.SetHealthCheck,
      summary: 'Set the health check (the health-check document, docs/compatibility.md)',
    },
    removeHealthCheck: {
      verb: 'DELETE',
      path: ':id/health-check',
      params: LB,
      status: 204,
      rpc: LbRpc.SetHealthCheck,
      summary: 'Remove the health check: every enabled member takes traffic',
    },
  },
});
