import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { PageRequest } from '../pagination.js';
import { defineRpc } from '../rpc.js';
import { INT32_MAX, IsIdToken, IsIpAddress, IsSafeText } from '../validation.js';

/** Seed 004's metrics document, posted by a routing server every report interval. */
export class ReportMetricsRequest {
  @IsIdToken() server_id!: string;
  @IsSafeText(128) server_name!: string;
  /** The server's own clock (seconds since the epoch); liveness uses the time of arrival. */
  @IsOptional() @IsNumber() @Min(0) timestamp?: number;
  @IsNumber() @Min(0) @Max(100) cpu_percent!: number;
  @IsNumber() @Min(0) @Max(100) memory_percent!: number;
  @IsNumber() @Min(0) bandwidth_mbps!: number;
  @IsInt() @Min(0) @Max(INT32_MAX) active_tunnels!: number;
  @IsOptional() @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) total_rx_packets?: number;
  @IsOptional() @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) total_tx_packets?: number;
  @IsIpAddress() internal_ip!: string;
  @IsIpAddress() external_ip!: string;
}

export interface ReportMetricsResponse {
  server_id: string;
  score: number;
}

export class GetDecisionRequest {
  @IsIdToken() endpoint_id!: string;
}

/** Seed 004's decision document plus the backup router each endpoint keeps its second tunnel to. */
export interface DecisionView {
  optimal_router_id: string;
  optimal_router_internal_ip: string;
  optimal_router_external_ip: string;
  business_server_ip: string;
  score: number;
  timestamp: number;
  backup_router_id: string;
  backup_router_internal_ip: string;
  backup_router_external_ip: string;
}

/** What is pushed on qnet.tunnel.decision.<endpoint_id> when an endpoint's routers change. */
export interface DecisionPush extends DecisionView {
  endpoint_id: string;
  reason: DecisionReason;
}

export const DECISION_REASONS = [
  'initial',
  'failover',
  'better_router',
  'backup_replaced',
  'better_backup',
  'no_active_router',
  'tunnel_failed',
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

export class GetStatusRequest {}

export interface ServerStatusView {
  server_id: string;
  server_name: string;
  status: 'active' | 'inactive';
  cpu_percent: number;
  memory_percent: number;
  bandwidth_mbps: number;
  active_tunnels: number;
  score: number;
}

/** Seed 004's `GET /status` document. */
export interface BalancerStatusView {
  timestamp: number;
  total_servers: number;
  active_servers: number;
  servers: ServerStatusView[];
  active_decisions: number;
}

export class ListDecisionsRequest extends PageRequest {}

export interface EndpointRoutersView {
  endpoint_id: string;
  primary_router_id: string;
  backup_router_id: string;
}

export interface ListDecisionsResponse {
  decisions: EndpointRoutersView[];
  next_page_token: string;
}

export const TunnelRpc = {
  ReportMetrics: defineRpc<ReportMetricsRequest, ReportMetricsResponse>(
    'tunnel',
    'ReportMetrics',
    ReportMetricsRequest,
    { protoRequest: 'ReportMetricsRequest' },
  ),
  GetDecision: defineRpc<GetDecisionRequest, DecisionView>(
    'tunnel',
    'GetDecision',
    GetDecisionRequest,
    { protoRequest: 'GetDecisionRequest' },
  ),
  GetStatus: defineRpc<GetStatusRequest, BalancerStatusView>(
    'tunnel',
    'GetStatus',
    GetStatusRequest,
    { protoRequest: 'GetStatusRequest' },
  ),
  ListDecisions: defineRpc<ListDecisionsRequest, ListDecisionsResponse>(
    'tunnel',
    'ListDecisions',
    ListDecisionsRequest,
    { protoRequest: 'ListDecisionsRequest' },
  ),
};
