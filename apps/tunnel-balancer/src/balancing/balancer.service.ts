import { Inject, Injectable } from '@nestjs/common';
import {
  DEFAULT_PAGE_SIZE,
  pageOf,
  pageStart,
  QnetError,
  type BalancerStatusView,
  type DecisionView,
  type ListDecisionsRequest,
  type ListDecisionsResponse,
  type ReportMetricsRequest,
  type ReportMetricsResponse,
} from '@qnet/contracts';
import { readsTogether } from '@qnet/persistence';
import type { TunnelConfig } from '../config.js';
import { BalancerRepository } from './balancer.repository.js';
import { decisionDocument } from './decision-view.js';
import { EvaluatorService } from './evaluator.service.js';
import { scoreOf } from './score.js';
import { TUNNEL_CONFIG } from './tokens.js';

/** The balancer's operations, whichever way they arrive (bus, gateway, the seed's HTTP API). */
@Injectable()
export class BalancerService {
  /** Endpoints poll their decisions all the time: the reads of one turn share a statement. */
  private readonly decisions = readsTogether(
    (ids: string[]) => this.repo.decisions(ids),
    (row) => row.endpoint_id,
  );

  constructor(
    @Inject(TUNNEL_CONFIG) private readonly config: TunnelConfig,
    private readonly repo: BalancerRepository,
    private readonly evaluator: EvaluatorService,
  ) {}

  async reportMetrics(m: ReportMetricsRequest): Promise<ReportMetricsResponse> {
    const score = scoreOf(m, this.config);
    const { wasActive } = await this.repo.recordMetrics(m, score);
    // A new or returning router can be some endpoint's only choice: decide now, not at the next tick.
    if (!wasActive) void this.evaluator.kick();
    return { server_id: m.server_id, score };
  }

  async decision(endpointId: string): Promise<DecisionView> {
    const row = await this.decisions.add(endpointId);
    if (!row)
      throw new QnetError(
        'not_found',
        `endpoint ${endpointId} not found: endpoints are registered with the device controller`,
      );
    if (!row.primary_router_id)
      throw new QnetError('unavailable', `no active routing server for endpoint ${endpointId}`);
    return decisionDocument(row, this.config.businessServerIp);
  }

  async status(): Promise<BalancerStatusView> {
    const { routers, decided } = await this.repo.status();
    return {
      timestamp: Date.now() / 1000,
      total_servers: routers.length,
      active_servers: routers.filter((r) => r.active).length,
      servers: routers.map((r) => ({
        server_id: r.server_id,
        server_name: r.server_name,
        status: r.active ? 'active' : 'inactive',
        cpu_percent: r.cpu_percent,
        memory_percent: r.memory_percent,
        bandwidth_mbps: r.bandwidth_mbps,
        active_tunnels: r.active_tunnels,
        score: r.score,
      })),
      active_decisions: decided,
    };
  }

  async listDecisions(req: ListDecisionsRequest): Promise<ListDecisionsResponse> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repo.listAssignments(pageStart(req.page_token), limit + 1);
    const page = pageOf(
      rows,
      limit,
      (r) => ({
        endpoint_id: r.endpoint_id,
        primary_router_id: r.primary_router_id ?? '',
        backup_router_id: r.backup_router_id ?? '',
      }),
      (d) => d.endpoint_id,
    );
    return { decisions: page.items, next_page_token: page.next_page_token };
  }

  async addEndpoint(id: string): Promise<void> {
    await this.repo.addEndpoint(id);
    await this.evaluator.kick();
  }

  async removeEndpoint(id: string): Promise<void> {
    await this.repo.removeEndpoint(id);
  }

  /**
   * The endpoint's own probes found its tunnels to these routers dead (it already moved its
   * routes): it is given other routers now, and these not again within the hold time.
   */
  async tunnelsFailed(endpointId: string, routerIds: string[]): Promise<void> {
    if (await this.repo.avoid(endpointId, routerIds, this.config.antiFlapHoldMs))
      await this.evaluator.kick();
  }
}
