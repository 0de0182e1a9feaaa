import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Subjects, type DecisionPush } from '@qnet/contracts';
import { Outbox, type Outgoing } from '@qnet/service';
import type { TunnelConfig } from '../config.js';
import {
  BalancerRepository,
  type RoundEndpointRow,
  type RouterRow,
} from './balancer.repository.js';
import { decideAll, projectedRanking, type Change } from './decide.js';
import { decisionDocument } from './decision-view.js';
import { TUNNEL_CONFIG } from './tokens.js';

/** Gives requests on the same event loop a turn during a long round. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Changed decisions serialized between two turns. */
const PUBLISH_SLICE = 256;

/**
 * Re-evaluates every endpoint's routers: on a timer (which is also what notices silent routers)
 * and at once when something may have changed a decision (a new endpoint, a router coming back).
 * One instance evaluates at a time (an advisory lock); changes are committed with their pushes on
 * qnet.tunnel.decision.<endpoint_id> and their events, which the outbox relays.
 */
@Injectable()
export class EvaluatorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Evaluator');
  private timer?: NodeJS.Timeout;
  private startedAt = new Date();
  private running?: Promise<void>;
  private next?: Promise<void>;
  /** The endpoints as this instance's last round left them, and the table's generation then. */
  private held?: { generation: number; rows: RoundEndpointRow[] };

  constructor(
    @Inject(TUNNEL_CONFIG) private readonly config: TunnelConfig,
    private readonly repo: BalancerRepository,
    private readonly outbox: Outbox,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.startedAt = await this.repo.databaseNow();
    this.timer = setInterval(() => void this.kick(), this.config.evaluateIntervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * Runs a round now, or once right after the one in progress (callers arriving meanwhile share
   * it); resolves when a round that started after the call has finished.
   */
  kick(): Promise<void> {
    if (this.running) {
      this.next ??= this.running.then(() => {
        this.next = undefined;
        return this.kick();
      });
      return this.next;
    }
    this.running = this.round()
      .catch((err: unknown) => this.logger.error('evaluation failed', err))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    const started = performance.now();
    const outcome = await this.outbox
      .transaction(async (tx, out) => {
        if (!(await this.repo.tryEvaluatorLock(tx))) return undefined;
        const transitions = await this.repo.refreshActivity(
          tx,
          this.config.reportIntervalMs * this.config.missedReports,
          this.startedAt,
        );
        const now = await this.repo.nowMs(tx);
        const routers = await this.repo.routers(tx);
        const generation = await this.repo.endpointsGeneration(tx);
        const rows =
          this.held?.generation === generation ? this.held.rows : await this.repo.endpoints(tx);
        const endpoints = rows.map((e) => ({
          id: e.endpoint_id,
          cur: {
            primary: e.primary_router_id,
            backup: e.backup_router_id,
            changedAt: e.changed_ms,
            avoid: (e.avoid_until_ms ?? 0) > now ? e.avoid_router_ids : [],
          },
        }));
        const ranking = projectedRanking(
          routers
            .filter((r) => r.active)
            .map((r) => ({ id: r.server_id, score: r.score, reportedTunnels: r.active_tunnels })),
          endpoints.map((e) => e.cur),
          this.config.weightConnections / this.config.maxConnections,
        );
        const changes = await decideAll(endpoints, ranking, now, this.config, nextTurn);
        // Serialized before the save: writing endpoints holds the generation counter's row (and
        // so registrations and reported tunnel failures) until the commit.
        for (const t of transitions)
          out.event({
            resource: 'server',
            event: t.active ? 'active' : 'inactive',
            id: t.server_id,
            data: t,
          });
        await this.publish(out, changes, routers);
        await this.repo.saveAssignments(tx, changes);
        // What this round wrote is known: the table is held for the next round, unless another
        // writer committed since it was read (the counter moved by more than this round's save).
        const after = changes.length ? await this.repo.endpointsGeneration(tx) : generation;
        const held =
          after === generation + (changes.length ? 1 : 0)
            ? { generation: after, rows: withChanges(rows, changes) }
            : undefined;
        return { transitions, routers, changes, endpoints: endpoints.length, held };
      })
      .catch((err: unknown) => {
        this.held = undefined;
        throw err;
      });
    this.held = outcome?.held;
    if (!outcome) return; // another instance holds the evaluator lock
    for (const t of outcome.transitions)
      this.logger.log(`routing server ${t.server_id} is ${t.active ? 'active again' : 'inactive'}`);
    if (outcome.changes.length)
      this.logger.log(
        `round: ${outcome.endpoints} endpoints against ${outcome.routers.length} routers in ${(performance.now() - started).toFixed(1)} ms, ${outcome.changes.length} decision(s) changed and pushed`,
      );
  }

  /** Each changed decision, to its endpoint and as an event. */
  private async publish(
    out: Outgoing,
    changes: (Change & { id: string })[],
    routers: RouterRow[],
  ): Promise<void> {
    const byId = new Map(routers.map((r) => [r.server_id, r]));
    for (const [i, c] of changes.entries()) {
      if (i % PUBLISH_SLICE === PUBLISH_SLICE - 1) await nextTurn();
      const primary = c.next.primary ? byId.get(c.next.primary) : undefined;
      const backup = c.next.backup ? byId.get(c.next.backup) : undefined;
      const push: DecisionPush = {
        endpoint_id: c.id,
        reason: c.reason,
        ...decisionDocument(
          {
            primary_router_id: c.next.primary,
            primary_internal_ip: primary?.internal_ip ?? null,
            primary_external_ip: primary?.external_ip ?? null,
            primary_score: primary?.score ?? null,
            backup_router_id: c.next.backup,
            backup_internal_ip: backup?.internal_ip ?? null,
            backup_external_ip: backup?.external_ip ?? null,
            changed_ms: c.next.changedAt,
          },
          this.config.businessServerIp,
        ),
      };
      out.publish(Subjects.tunnelDecision(c.id), push);
      out.event({ resource: 'decision', event: 'changed', id: c.id, data: push });
    }
  }
}

/** The rows with a round's changes applied, as its save wrote them. */
function withChanges(
  rows: RoundEndpointRow[],
  changes: (Change & { id: string })[],
): RoundEndpointRow[] {
  if (!changes.length) return rows;
  const next = new Map(changes.map((c) => [c.id, c.next]));
  return rows.map((r) => {
    const n = next.get(r.endpoint_id);
    return n
      ? { ...r, primary_router_id: n.primary, backup_router_id: n.backup, changed_ms: n.changedAt }
      : r;
  });
}
