import type { DecisionView } from '@qnet/contracts';
import type { DecisionRow } from './balancer.repository.js';

type DecisionFields = Omit<DecisionRow, 'endpoint_id'>;

/** Seed 004's decision document from an endpoint's routers; empty strings where there is no backup. */
export function decisionDocument(d: DecisionFields, businessServerIp: string): DecisionView {
  return {
    optimal_router_id: d.primary_router_id ?? '',
    optimal_router_internal_ip: d.primary_internal_ip ?? '',
    optimal_router_external_ip: d.primary_external_ip ?? '',
    business_server_ip: businessServerIp,
    score: d.primary_score ?? 0,
    timestamp: d.changed_ms / 1000,
    backup_router_id: d.backup_router_id ?? '',
    backup_router_internal_ip: d.backup_internal_ip ?? '',
    backup_router_external_ip: d.backup_external_ip ?? '',
  };
}
