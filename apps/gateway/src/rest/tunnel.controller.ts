import { TunnelRpc } from '@qnet/contracts';
import { restController } from './rest-routes.js';

/** Seed 004's balancer API under the gateway (the seed's own paths answer on the balancer's port). */
export const TunnelRestController = restController({
  name: 'TunnelRestController',
  tag: 'tunnel',
  base: 'api/v1/tunnel',
  routes: {
    metrics: {
      verb: 'POST',
      path: 'metrics',
      status: 200,
      rpc: TunnelRpc.ReportMetrics,
      summary: "Report a routing server's metrics (the seed's document)",
    },
    decision: {
      verb: 'GET',
      path: 'decision/:endpoint_id',
      params: { endpoint_id: 'endpoint_id' },
      rpc: TunnelRpc.GetDecision,
      summary: "An endpoint's primary and backup router (404 unknown, 503 none active)",
    },
    status: {
      verb: 'GET',
      path: 'status',
      rpc: TunnelRpc.GetStatus,
      summary: 'Routing servers with their metrics and scores, and the number of decisions',
    },
  },
});
